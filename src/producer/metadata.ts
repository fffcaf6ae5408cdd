/**
 * What the producer knows of the cluster: brokers, and for each topic it writes to, its
 * id and each partition's leader and leader epoch.
 *
 * Refreshes are single-flight: any number of callers that need fresh metadata (a new
 * topic, NOT_LEADER_OR_FOLLOWER, a dead connection, the max-age timer) share one
 * request. A leader learnt from a Produce response hint (KIP-951) is taken only when its
 * epoch is newer than what we have, so a late or stale answer can never move a leader
 * backwards — the interleaving that hurt long-lived client state elsewhere.
 */
import { debuglog } from 'node:util';
import { AuthenticationError, BrokerError, UnknownTopicError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { Metadata } from '../protocol/apis/index.js';
import { ZERO_UUID } from '../protocol/uuid.js';

const debug = debuglog('kafka-wire');

export interface PartitionState {
  readonly partition: number;
  leader: number;
  leaderEpoch: number;
  /** Error code from the last metadata (e.g. LEADER_NOT_AVAILABLE), 0 if none. */
  errorCode: number;
}

export interface TopicState {
  readonly name: string;
  id: string;
  partitions: PartitionState[];
  /** Partitions that have a leader now. */
  available: number[];
  /** What the partitioners read, kept as one object so the send path allocates nothing. */
  partitionState: { partitionCount: number; availablePartitions: readonly number[] };
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const LEADER_NOT_AVAILABLE = 5;

export class ClusterMetadata {
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topics = new Map<string, TopicState>();
  /** Topics we have been asked about; each refresh asks for all of them. */
  readonly #wanted = new Set<string>();
  /** Topics the broker said do not exist (or are not ready), with its error code. */
  readonly #missing = new Map<string, number>();
  #refreshing: Promise<void> | undefined;
  #stale = false;
  lastRefresh = 0;
  readonly #connect: () => Promise<BrokerConnection>;
  readonly #allowAutoTopicCreation: boolean;
  /** Called after every successful refresh (the sender may have work for new leaders). */
  onUpdate: () => void = () => {};

  constructor(connect: () => Promise<BrokerConnection>, allowAutoTopicCreation: boolean) {
    this.#connect = connect;
    this.#allowAutoTopicCreation = allowAutoTopicCreation;
  }

  topic(name: string): TopicState | undefined {
    return this.topics.get(name);
  }

  /** Marks metadata stale: the next refresh() call will ask the cluster. */
  invalidate(): void {
    this.#stale = true;
  }

  get stale(): boolean {
    return this.#stale;
  }

  /** Asks the cluster now, unless a request is already on its way (then shares it). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#fetch().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #fetch(): Promise<void> {
    const conn = await this.#connect();
    const names = [...this.#wanted];
    const { version, response } = await conn.request(Metadata, {
      topics: names.map((name) => ({ name })),
      allowAutoTopicCreation: this.#allowAutoTopicCreation,
    });
    if (response.errorCode) throw new BrokerError(response.errorCode, { broker: conn.address, api: `Metadata v${version}` });
    this.brokers.clear();
    for (const b of response.brokers) this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port });
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0) {
        this.#missing.set(t.name, t.errorCode);
        continue;
      }
      this.#missing.delete(t.name);
      this.#apply(t.name, t.topicId, t.partitions);
    }
    this.#stale = false;
    this.lastRefresh = Date.now();
    debug('metadata v%d: %d brokers, topics %s', version, this.brokers.size, names.join(','));
    this.onUpdate();
  }

  #apply(
    name: string,
    id: string,
    partitions: ReadonlyArray<{ partitionIndex: number; leaderId: number; leaderEpoch: number; errorCode: number }>,
  ): void {
    const known = this.topics.get(name);
    const states: PartitionState[] = [];
    for (const p of partitions) {
      const before = known?.partitions[p.partitionIndex];
      // Keep a newer leader learnt from a produce response over an older metadata answer.
      const keep = before !== undefined && before.leaderEpoch > p.leaderEpoch && p.leaderEpoch >= 0;
      states[p.partitionIndex] = keep ? before : { partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, errorCode: p.errorCode };
    }
    const dense = Array.from({ length: states.length }, (_, i) => states[i] ?? { partition: i, leader: -1, leaderEpoch: -1, errorCode: LEADER_NOT_AVAILABLE });
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
   * Resolves with the topic once its metadata (with at least one partition) is known;
   * retries while the broker says it is unknown or leaderless, until `deadline`.
   */
  async waitForTopic(name: string, deadline: number, backoffMs: number): Promise<TopicState> {
    this.#wanted.add(name);
    for (let attempt = 0; ; attempt++) {
      const t = this.topics.get(name);
      if (t && t.partitions.length > 0) return t;
      if (Date.now() >= deadline) {
        const code = this.#missing.get(name);
        const why = code === UNKNOWN_TOPIC_OR_PARTITION ? 'the cluster does not have it' : code ? new BrokerError(code).type : 'no metadata arrived';
        throw new UnknownTopicError(name, `topic ${JSON.stringify(name)} is not available: ${why} (waited up to maxBlockMs)`);
      }
      try {
        await this.refresh();
      } catch (err) {
        // Refused credentials or certificates do not heal by waiting: fail the send with them.
        if (err instanceof AuthenticationError) throw err;
        debug('metadata refresh failed: %s', (err as Error).message);
      }
      if (this.topics.get(name)?.partitions.length) continue;
      const wait = Math.min(deadline - Date.now(), backoffMs * 2 ** Math.min(attempt, 5));
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** The topic id for Produce v13+, or undefined when the broker gave none. */
  topicId(name: string): string | undefined {
    const id = this.topics.get(name)?.id;
    return id && id !== ZERO_UUID ? id : undefined;
  }
}
