/**
 * What the producer knows of the cluster: brokers, and for each topic it writes to, its
 * id and each partition's leader and leader epoch.
 *
 * Refreshes are single-flight: any number of callers that need fresh metadata (a new
 * topic, NOT_LEADER_OR_FOLLOWER, a dead connection, the max-age timer) share one
 * request. A leader learnt from a Produce response hint (KIP-951) is taken only when its
 * epoch is newer than what we have, so a late or stale answer can never move a leader
 * backwards.
 *
 * Waiting is per topic: waitForTopic() ends as soon as the topic is known, fails at once
 * when the cluster says something that waiting cannot change (an invalid name, no
 * authorization), and otherwise fails at its deadline saying what it last heard.
 */
import { debuglog } from 'node:util';
import { BrokerError, cannotHealByWaiting, ConnectionError, InvalidTopicError, rootCause, TopicAuthorizationError, UnknownTopicError } from '../errors.js';
import { Metadata } from '../protocol/apis/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ZERO_UUID } from '../protocol/uuid.js';
import { backoffDelay, type BackoffSettings } from './backoff.js';
import type { BrokerChannel } from './broker-channel.js';
import type { BrokerInfo } from './brokers.js';
import { sleep, type Clock } from './clock.js';

const debug = debuglog('kafka-wire');

export interface PartitionLeader {
  readonly partition: number;
  leader: number;
  leaderEpoch: number;
  /** Error code from the last metadata (e.g. LEADER_NOT_AVAILABLE), 0 if none. */
  errorCode: number;
}

export interface TopicState {
  readonly name: string;
  id: string;
  partitions: PartitionLeader[];
  /** Partitions that have a leader now. */
  available: number[];
  /** What the partitioners read, kept as one object so the send path allocates nothing. */
  partitionState: { partitionCount: number; availablePartitions: readonly number[] };
}

export interface MetadataContext {
  any(): Promise<BrokerChannel>;
  clock: Clock;
  backoff: BackoffSettings;
  allowAutoTopicCreation: boolean;
  /** The producer's maxBlockMs, for what a failed wait says it waited. */
  maxBlockMs: number;
  /** Aborted when the producer closes: every wait ends. */
  signal: AbortSignal;
}

/**
 * The error for a topic the cluster refuses whatever we wait for: its name
 * (INVALID_TOPIC_EXCEPTION), or our access to it (TOPIC_AUTHORIZATION_FAILED); undefined
 * for any other code. The same whether a Metadata answer said it or a Produce answer did
 * (a name like `__consumer_offsets` has metadata, but no producer may write to it);
 * `answer`, the broker's error as it came, is the cause.
 */
export function topicRefusal(name: string, code: number, answer?: BrokerError): InvalidTopicError | TopicAuthorizationError | undefined {
  const context = answer === undefined ? {} : { broker: answer.broker, api: answer.api, cause: answer };
  if (code === ErrorCode.INVALID_TOPIC_EXCEPTION) {
    return new InvalidTopicError(name, code, `topic name ${JSON.stringify(name)} is refused by the cluster: ${(answer ?? new BrokerError(code)).message}`, context);
  }
  if (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) {
    return new TopicAuthorizationError(name, code, `not authorized to write to topic ${JSON.stringify(name)}`, context);
  }
  return undefined;
}

export class ClusterMetadata {
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topics = new Map<string, TopicState>();
  /** Topics we have been asked about; each refresh asks for all of them. */
  readonly #wanted = new Set<string>();
  /** Topics the broker answered with an error, and the error. */
  readonly #topicErrors = new Map<string, number>();
  #refreshing: Promise<void> | undefined;
  #stale = false;
  /** Why the last refresh failed, if it did: what a wait that times out reports. */
  #lastFailure: Error | undefined;
  readonly #ctx: MetadataContext;
  #lastName: string | undefined;
  #lastAsked: TopicState | undefined;
  /** Called after every successful refresh (the sender may have work for new leaders). */
  onUpdate: () => void = () => {};

  constructor(ctx: MetadataContext) {
    this.#ctx = ctx;
  }

  /**
   * The send path asks this for every record, most often for the topic it asked before:
   * that one is remembered (a TopicState, once made, is only ever updated in place).
   */
  topic(name: string): TopicState | undefined {
    // The name as asked (the caller's string, usually the very same object each time): the
    // state's own name is another string, and comparing two strings' characters costs more.
    if (name === this.#lastName) return this.#lastAsked;
    const state = this.topics.get(name);
    if (state) {
      this.#lastName = name;
      this.#lastAsked = state;
    }
    return state;
  }

  /** Marks metadata stale: the sender refreshes it on its next run. */
  invalidate(): void {
    this.#stale = true;
  }

  get stale(): boolean {
    return this.#stale;
  }

  /** Asks the cluster now, unless a request is already on its way (then shares it). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#fetch().then(
      () => {
        this.#lastFailure = undefined;
        this.#refreshing = undefined;
      },
      (err: Error) => {
        this.#lastFailure = err;
        this.#refreshing = undefined;
        throw err;
      },
    );
    return this.#refreshing;
  }

  async #fetch(): Promise<void> {
    const conn = await this.#ctx.any();
    const names = [...this.#wanted];
    const { version, response } = await conn.request(Metadata, {
      topics: names.map((name) => ({ name })),
      allowAutoTopicCreation: this.#ctx.allowAutoTopicCreation,
    });
    if (response.errorCode) throw new BrokerError(response.errorCode, { broker: conn.address, api: `Metadata v${version}` });
    this.brokers.clear();
    for (const b of response.brokers) this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port });
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0) {
        this.#topicErrors.set(t.name, t.errorCode);
        continue;
      }
      this.#topicErrors.delete(t.name);
      this.#apply(t.name, t.topicId, t.partitions);
    }
    this.#stale = false;
    debug('metadata v%d: %d brokers, topics %s', version, this.brokers.size, names.join(','));
    this.onUpdate();
  }

  #apply(
    name: string,
    id: string,
    partitions: ReadonlyArray<{ partitionIndex: number; leaderId: number; leaderEpoch: number; errorCode: number }>,
  ): void {
    const known = this.topics.get(name);
    const states: PartitionLeader[] = [];
    for (const p of partitions) {
      const before = known?.partitions[p.partitionIndex];
      // Keep a newer leader learnt from a produce response over an older metadata answer.
      const keep = before !== undefined && before.leaderEpoch > p.leaderEpoch && p.leaderEpoch >= 0;
      states[p.partitionIndex] = keep ? before : { partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, errorCode: p.errorCode };
    }
    const dense = Array.from(
      { length: states.length },
      (_, i) => states[i] ?? { partition: i, leader: -1, leaderEpoch: -1, errorCode: ErrorCode.LEADER_NOT_AVAILABLE },
    );
    const state: TopicState = known ?? { name, id, partitions: dense, available: [], partitionState: { partitionCount: 0, availablePartitions: [] } };
    state.id = id;
    state.partitions = dense;
    state.available = dense.filter((p) => p.leader >= 0 && this.brokers.has(p.leader)).map((p) => p.partition);
    state.partitionState = { partitionCount: dense.length, availablePartitions: state.available };
    this.topics.set(name, state);
  }

  /** A Produce response's hint (KIP-951): the partition moved to `leader` at `leaderEpoch`. */
  noteLeader(topic: string, partition: number, leader: number, leaderEpoch: number, endpoint?: BrokerInfo): boolean {
    const p = this.topics.get(topic)?.partitions[partition];
    if (!p || leader < 0 || leaderEpoch <= p.leaderEpoch) return false;
    if (endpoint) this.brokers.set(endpoint.nodeId, endpoint);
    if (!this.brokers.has(leader)) return false;
    p.leader = leader;
    p.leaderEpoch = leaderEpoch;
    p.errorCode = 0;
    return true;
  }

  /**
   * Resolves with the topic once its metadata has `partition + 1` partitions (at least
   * one); refreshes with backoff until `deadline`. Fails at once on an answer that
   * waiting cannot change, and at the deadline with what it last heard.
   */
  async waitForTopic(name: string, deadline: number, partition = 0, signal = this.#ctx.signal): Promise<TopicState> {
    const { clock } = this.#ctx;
    this.#wanted.add(name);
    for (let failures = 1; ; failures++) {
      const t = this.topics.get(name);
      if (t && t.partitions.length > partition) return t;
      const refused = this.#refusal(name);
      if (refused) throw refused;
      if (clock.now() >= deadline) throw this.#timedOut(name, partition);
      try {
        await this.#refreshUntil(deadline, signal);
      } catch (err) {
        // Refused credentials or certificates, or a listener that answers in TLS or HTTP, do not
        // heal by waiting: fail the send with them.
        if (cannotHealByWaiting(err) || signal.aborted || this.#ctx.signal.aborted) throw err;
        debug('metadata refresh failed: %s', (err as Error).message);
      }
      const now = this.topics.get(name);
      if ((now && now.partitions.length > partition) || this.#refusal(name)) continue;
      // Unreachable brokers: look again soon, since the registry's reconnect backoff decides
      // when a dial really happens; waiting out a second backoff here would double it.
      const unreachable = this.#lastFailure instanceof ConnectionError;
      const wait = Math.min(deadline - clock.now(), unreachable ? this.#ctx.backoff.base : backoffDelay(this.#ctx.backoff, failures));
      if (wait > 0) await sleep(clock, wait, signal);
      if (this.#ctx.signal.aborted) throw this.#ctx.signal.reason;
    }
  }

  /** A refresh, given up (not cancelled: others may share it) at `deadline` or when `signal` aborts. */
  async #refreshUntil(deadline: number, signal: AbortSignal): Promise<void> {
    const refresh = this.refresh();
    refresh.catch(() => undefined);
    const { clock } = this.#ctx;
    const giveUp = new AbortController();
    const onAbort = (): void => giveUp.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const timeout = sleep(clock, Math.max(0, deadline - clock.now()), giveUp.signal);
      timeout.catch(() => undefined);
      await Promise.race([refresh, timeout]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      // Ends the deadline timer when the refresh won.
      giveUp.abort();
    }
  }

  /** The error for a topic answer that no amount of waiting changes. */
  #refusal(name: string): Error | undefined {
    const code = this.#topicErrors.get(name);
    return code === undefined ? undefined : topicRefusal(name, code);
  }

  /** Why a send to `partition` of `name` fails when its maxBlockMs is over now: what was last heard of the topic. */
  timedOut(name: string, partition: number): Error {
    return this.#timedOut(name, partition);
  }

  #timedOut(name: string, partition: number): Error {
    const failure = this.#lastFailure;
    const waited = `maxBlockMs (${this.#ctx.maxBlockMs} ms)`;
    if (failure instanceof ConnectionError && !this.topics.has(name)) {
      return new ConnectionError(`no metadata for topic ${JSON.stringify(name)} within ${waited}: ${failure.message}`, { cause: rootCause(failure) });
    }
    const known = this.topics.get(name);
    if (known && known.partitions.length > 0) {
      return new UnknownTopicError(name, `partition ${partition} of topic ${JSON.stringify(name)} does not exist (it has partitions 0..${known.partitions.length - 1}); waited ${waited} for it to appear`);
    }
    const code = this.#topicErrors.get(name);
    const why =
      code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        ? 'the cluster does not have it'
        : code !== undefined
          ? new BrokerError(code).type
          : failure
            ? `metadata requests failed: ${failure.message}`
            : 'no metadata arrived';
    return new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${why} (waited ${waited})`, { cause: failure });
  }

  /** The topic id for Produce v13+, or undefined when the broker gave none. */
  topicId(name: string): string | undefined {
    const id = this.topics.get(name)?.id;
    return id && id !== ZERO_UUID ? id : undefined;
  }
}
