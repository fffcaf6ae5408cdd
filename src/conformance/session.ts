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

  /** A connection to `address` (the first bootstrap broker by default), opened again if a check broke it. */
  async connection(address = this.bootstrapAddress): Promise<BrokerConnection> {
    const existing = this.#connections.get(address);
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn?.isOpen) return conn;
    }
    const opening = this.open(address);
    this.#connections.set(address, opening);
    return opening;
  }

  /** A new connection that no one else uses, for checks that may make the broker close it (or throttle its client id). */
  open(address = this.bootstrapAddress, clientId = this.clientId): Promise<BrokerConnection> {
    const [parsed] = parseBootstrap(address);
    return BrokerConnection.open({ host: parsed!.host, port: parsed!.port, clientId, tls: this.#opts.tls, sasl: this.#opts.sasl });
  }

  /** Sends at exactly `version`, remembering the request and answer for the report. */
  async call<A extends AnyApi>(conn: BrokerConnection, api: A, version: number, body: RequestOf<A>, opts: { expectResponse?: boolean } = {}): Promise<ResponseOf<A>> {
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
    const created = { name, ...(await createTopic(await this.connection(), name, opts)) };
    this.#created.push(created);
    await waitUntilServed((p) => this.leader(created, p), name, created.partitions.map((p) => p.partition));
    return created;
  }

  /** Undoes a change a check made to the cluster (a quota), at cleanup, whatever the check did. */
  onCleanup(undo: () => Promise<void>): void {
    this.#undo.push(undo);
  }

  /** Deletes a topic a check created itself, at cleanup. */
  adopt(topic: CreatedTopic): void {
    this.#created.push(topic);
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
    try {
      for (const undo of this.#undo.splice(0)) await undo().catch((err: Error) => failed.push(`cluster change: ${err.message}`));
      if (!keep && this.#created.length > 0) failed.push(...(await this.#deleteCreated()));
    } finally {
      for (const opening of this.#connections.values()) await (await opening.catch(() => undefined))?.close();
      this.#connections.clear();
    }
    return failed;
  }

  async #deleteCreated(): Promise<string[]> {
    const conn = await this.connection();
    const names = this.#created.map((t) => t.name);
    const version = conn.requireVersion(DeleteTopics);
    // v6 names topics by name or id; before it, by name only.
    const body = version >= 6 ? { topics: names.map((name) => ({ name, topicId: ZERO_UUID })) } : { topicNames: names };
    const response = await conn.send(DeleteTopics, version, { ...body, timeoutMs: 30_000 });
    return response.responses.filter((r) => r.errorCode !== 0).map((r) => `${r.name ?? r.topicId}: ${new BrokerError(r.errorCode).type}`);
  }
}
