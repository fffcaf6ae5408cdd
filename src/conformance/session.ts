/**
 * One run of the suite against one cluster: its connections (to the bootstrap broker, to
 * partition leaders, to coordinators), the topics it created under its prefix, and the
 * requests each check sent, kept for the failure report.
 */
import { randomBytes } from 'node:crypto';
import { BrokerError } from '../errors.js';
import { BrokerConnection } from '../net/broker-connection.js';
import { parseBootstrap } from '../net/bootstrap.js';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import { DeleteTopics, FindCoordinator, Metadata } from '../protocol/apis/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ZERO_UUID } from '../protocol/uuid.js';
import { createTopic, waitUntilServed, type CreateTopicOptions, type PartitionInfo } from './admin.js';
import type { Exchange } from './exchange.js';

export interface SessionOptions {
  bootstrap: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  /** Topics are named `<prefix>-<run id>-<what>`. */
  prefix?: string;
  clientId?: string;
  /** The suite may change the cluster beyond its own topics (quotas, for the throttling checks). */
  admin?: boolean;
}

export interface CreatedTopic {
  name: string;
  topicId: string;
  partitions: PartitionInfo[];
}

/** What a check's session calls throw once the run was stopped: the check was cut off, it did not fail. */
export class Interrupted extends Error {}

export const DEFAULT_PREFIX = 'kafka-wire-conformance';

/**
 * What topic names add to the prefix, at most: the run id (`-` 8 base-36 digits `-` 6 hex)
 * and the longest `-<what>` a check uses, with room to spare.
 */
export const TOPIC_NAME_EXTRA = 16 + 40;

export class Session {
  readonly clientId: string;
  readonly prefix: string;
  readonly admin: boolean;
  readonly #opts: SessionOptions;
  readonly #connections = new Map<string, Promise<BrokerConnection>>();
  readonly #created: CreatedTopic[] = [];
  /**
   * Names to delete at cleanup, each added before its CreateTopics is sent: a run stopped
   * while a topic was being created must delete it too (deleting one never made is harmless).
   */
  readonly #toDelete = new Set<string>();
  #interrupted: string | undefined;
  /** Cleanup's own requests (undoing a quota, deleting topics) go out even after interrupt(). */
  #cleaningUp = false;
  #onInterrupt!: (reason: string) => void;
  /** Resolves with the reason when interrupt() is called. */
  readonly whenInterrupted = new Promise<string>((resolve) => (this.#onInterrupt = resolve));
  readonly #undo: (() => Promise<void>)[] = [];
  /** Where each node listens, from Metadata. */
  #nodes = new Map<number, string>();
  /** Requests of the check that runs now; the runner clears it between checks. */
  exchanges: Exchange[] = [];

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.clientId = opts.clientId ?? 'kafka-wire-conformance';
    this.admin = opts.admin ?? false;
    this.prefix = `${opts.prefix ?? DEFAULT_PREFIX}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  get bootstrapAddress(): string {
    const first = parseBootstrap(this.#opts.bootstrap)[0]!;
    return `${first.host}:${first.port}`;
  }

  /**
   * Stops the run: from now on the session's calls throw Interrupted (cleanup() still works),
   * so a check cut off mid-way does not go on creating topics behind cleanup's back.
   */
  interrupt(reason: string): void {
    if (this.#interrupted !== undefined) return;
    this.#interrupted = reason;
    this.#onInterrupt(reason);
  }

  /** Why the run was stopped (the signal's name), or undefined. */
  get interrupted(): string | undefined {
    return this.#interrupted;
  }

  #refuseIfInterrupted(): void {
    if (this.#interrupted !== undefined && !this.#cleaningUp) throw new Interrupted(`stopped by ${this.#interrupted}`);
  }

  /** A connection to `address` (the first bootstrap broker by default), opened again if a check broke it. */
  async connection(address = this.bootstrapAddress): Promise<BrokerConnection> {
    this.#refuseIfInterrupted();
    return this.#connection(address);
  }

  async #connection(address = this.bootstrapAddress): Promise<BrokerConnection> {
    const existing = this.#connections.get(address);
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn?.isOpen) return conn;
    }
    const opening = this.#open(address);
    this.#connections.set(address, opening);
    return opening;
  }

  /** A new connection that no one else uses, for checks that may make the broker close it (or throttle its client id). */
  open(address = this.bootstrapAddress, clientId = this.clientId): Promise<BrokerConnection> {
    this.#refuseIfInterrupted();
    return this.#open(address, clientId);
  }

  #open(address = this.bootstrapAddress, clientId = this.clientId): Promise<BrokerConnection> {
    const [parsed] = parseBootstrap(address);
    return BrokerConnection.open({ host: parsed!.host, port: parsed!.port, clientId, tls: this.#opts.tls, sasl: this.#opts.sasl });
  }

  /** Sends at exactly `version`, remembering the request and answer for the report. */
  async call<A extends AnyApi>(conn: BrokerConnection, api: A, version: number, body: RequestOf<A>, opts: { expectResponse?: boolean } = {}): Promise<ResponseOf<A>> {
    this.#refuseIfInterrupted();
    const exchange: Exchange<A> = { api, version, request: body };
    this.exchanges.push(exchange as Exchange);
    const response = await conn.send(api, version, body, opts);
    exchange.response = opts.expectResponse === false ? null : response;
    return response;
  }

  topicName(what: string): string {
    return `${this.prefix}-${what}`;
  }

  /** Creates `<prefix>-<what>`, to be deleted by cleanup(). */
  async createTopic(what: string, opts: CreateTopicOptions = {}): Promise<CreatedTopic> {
    const name = this.topicName(what);
    const conn = await this.connection();
    this.deleteAtCleanup(name);
    const created = { name, ...(await createTopic(conn, name, opts)) };
    this.#created.push(created);
    await waitUntilServed((p) => this.leader(created, p), name, created.partitions.map((p) => p.partition));
    return created;
  }

  /** Undoes a change a check made to the cluster (a quota), at cleanup, whatever the check did. */
  onCleanup(undo: () => Promise<void>): void {
    this.#undo.push(undo);
  }

  /** Deletes topic `name` at cleanup: for a check that creates a topic itself, before it sends its CreateTopics. */
  deleteAtCleanup(name: string): void {
    this.#toDelete.add(name);
  }

  /** A topic a check created itself, among createdTopics (and deleted at cleanup). */
  adopt(topic: CreatedTopic): void {
    this.#created.push(topic);
    this.#toDelete.add(topic.name);
  }

  /** The connection to the leader of a partition of a topic this session created. */
  async leader(topic: CreatedTopic, partition: number): Promise<BrokerConnection> {
    const leader = topic.partitions.find((p) => p.partition === partition)?.leader;
    if (leader === undefined) throw new Error(`${topic.name} has no partition ${partition}`);
    return this.connection(await this.nodeAddress(leader));
  }

  /** The connection to the transaction (keyType 1) or group (0) coordinator of `key`. */
  async coordinator(key: string, keyType: 0 | 1): Promise<BrokerConnection> {
    const conn = await this.connection();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { version, response } = await conn.request(FindCoordinator, conn.requireVersion(FindCoordinator) >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType });
      const answer = version >= 4 ? response.coordinators[0] : response;
      if (answer && answer.errorCode === 0) return this.connection(`${answer.host}:${answer.port}`);
      if (Date.now() > deadline) throw new BrokerError(answer?.errorCode ?? -1, { api: `FindCoordinator v${version}`, detail: key });
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async nodeAddress(nodeId: number): Promise<string> {
    if (!this.#nodes.has(nodeId)) {
      const { response } = await (await this.connection()).request(Metadata, { topics: [] });
      this.#nodes = new Map(response.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
    }
    const address = this.#nodes.get(nodeId);
    if (address === undefined) throw new Error(`no broker ${nodeId} in Metadata`);
    return address;
  }

  get createdTopics(): readonly CreatedTopic[] {
    return this.#created;
  }

  /** Deletes the topics this session created (unless kept); returns what it could not undo or delete. */
  async cleanup(keep: boolean): Promise<string[]> {
    const failed: string[] = [];
    this.#cleaningUp = true;
    try {
      for (const undo of this.#undo.splice(0)) await undo().catch((err: Error) => failed.push(`cluster change: ${err.message}`));
      if (!keep && this.#toDelete.size > 0) failed.push(...(await this.#deleteCreated()));
    } finally {
      for (const opening of this.#connections.values()) await (await opening.catch(() => undefined))?.close();
      this.#connections.clear();
    }
    return failed;
  }

  async #deleteCreated(): Promise<string[]> {
    // The connection the topics were created on: DeleteTopics goes after any CreateTopics still in flight on it.
    const conn = await this.#connection();
    const names = [...this.#toDelete];
    const version = conn.requireVersion(DeleteTopics);
    // v6 names topics by name or id; before it, by name only.
    const body = version >= 6 ? { topics: names.map((name) => ({ name, topicId: ZERO_UUID })) } : { topicNames: names };
    const response = await conn.send(DeleteTopics, version, { ...body, timeoutMs: 30_000 });
    // Not there: a create that was cut off before the broker took it, or refused; nothing to delete.
    return response.responses.filter((r) => r.errorCode !== 0 && r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).map((r) => `${r.name ?? r.topicId}: ${new BrokerError(r.errorCode).type}`);
  }
}
