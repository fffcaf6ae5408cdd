/**
 * The idempotent producer's identity: a producer id and epoch from InitProducerId, and a
 * sequence per partition. The broker keeps the last five batches of each producer and
 * partition, so with at most five batches of a partition in flight, a retry is either
 * written once or recognised as a duplicate, and batches can never be reordered.
 *
 * A batch keeps the id, epoch and sequence it was first sent with for every retry:
 * giving a batch that may already be in the log a new epoch would write it twice. Only
 * when the broker has proven that a partition's unanswered batches are not in the log
 * do its sequences restart at 0, under an epoch that partition has never used (KIP-360;
 * an idempotent producer moves its epoch on locally, as Java's does). Other partitions
 * take up the new epoch only once none of their batches under the old one is left, so
 * no partition ever sees a batch of the old epoch after one of the new.
 */
import { debuglog } from 'node:util';
import { BrokerError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { InitProducerId } from '../protocol/apis/index.js';

const debug = debuglog('kafka-wire');
const MAX_EPOCH = 0x7fff;
const MAX_SEQUENCE = 0x7fffffff;
/**
 * Brokers forget an idle producer after producer.id.expiration.ms (a day by default);
 * a partition not heard from for this long is treated as not knowing us any more.
 */
const KNOWN_FOR_MS = 60 * 60 * 1000;

/** The producer id and epoch a batch was sent under; sequences only compare within one. */
export interface Stamp {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

export function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.producerId === b.producerId && a.producerEpoch === b.producerEpoch;
}

/** `sequence + count`, wrapping after int32 max to 0 as Kafka does. */
export function addSequence(sequence: number, count: number): number {
  return sequence > MAX_SEQUENCE - count ? count - (MAX_SEQUENCE - sequence) - 1 : sequence + count;
}

interface PartitionSequence {
  producerId: bigint;
  epoch: number;
  next: number;
}

export class ProducerIdentity {
  producerId = -1n;
  epoch = -1;
  /**
   * Transactional producers only: sequences went astray in this transaction, so after
   * the abort the coordinator must hand out a new epoch.
   */
  bumpRequired = false;
  readonly #sequences = new Map<string, PartitionSequence>();
  /** Per partition, the producer id its leader last acknowledged a batch of, and when. */
  readonly #acknowledged = new Map<string, { producerId: bigint; at: number }>();
  #initializing: Promise<void> | undefined;

  get ready(): boolean {
    return this.producerId >= 0n;
  }

  get initializing(): boolean {
    return this.#initializing !== undefined;
  }

  /** The partition's leader took (or knew as a duplicate) a batch of `producerId`: it holds state for it. */
  noteAcknowledged(key: string, producerId: bigint, now: number): void {
    this.#acknowledged.set(key, { producerId, at: now });
  }

  /**
   * Whether the partition's leader is known to hold state for the current producer id.
   * A leader without it takes a batch with any sequence (that is how a producer whose
   * state expired goes on), so a later batch could be written while an earlier one
   * failed, leaving a hole no answer would reveal. Until then the sender keeps one
   * batch of the partition in flight.
   */
  isKnownTo(key: string, now: number): boolean {
    const a = this.#acknowledged.get(key);
    return a !== undefined && a.producerId === this.producerId && now - a.at < KNOWN_FOR_MS;
  }

  /** Whether the partition's sequences belong to the current id and epoch (or it has none yet). */
  isCurrent(key: string): boolean {
    const s = this.#sequences.get(key);
    return s === undefined || (s.producerId === this.producerId && s.epoch === this.epoch);
  }

  /**
   * The base sequence for a batch of `count` records under the current id and epoch, and
   * advances past it. A partition last used under an older epoch starts again at 0: the
   * caller makes sure none of its batches under that epoch is left.
   */
  takeSequence(key: string, count: number): number {
    let s = this.#sequences.get(key);
    if (!s || s.producerId !== this.producerId || s.epoch !== this.epoch) {
      this.#sequences.set(key, (s = { producerId: this.producerId, epoch: this.epoch, next: 0 }));
    }
    const base = s.next;
    s.next = addSequence(base, count);
    return base;
  }

  /**
   * The broker proved that the partition's unanswered batches, sent under `stamp`, are
   * not in its log: their sequences start again at 0. If the partition already uses the
   * current epoch, the epoch moves on (a new id once it is exhausted), because a broker
   * never takes sequence 0 twice within one epoch.
   */
  restartSequences(key: string, stamp: Stamp): void {
    this.#sequences.delete(key);
    if (stamp.producerId !== this.producerId || stamp.producerEpoch < this.epoch) return;
    if (this.epoch >= MAX_EPOCH) {
      // The caller runs InitProducerId again.
      this.producerId = -1n;
      this.epoch = -1;
      debug('producer epoch exhausted: a new producer id is needed');
    } else {
      this.epoch++;
      debug('producer epoch bumped to %d', this.epoch);
    }
  }

  /** Asks any broker for a producer id (single-flight; retried by the caller on failure). */
  init(connect: () => Promise<BrokerConnection>, retryBackoffMs: number, deadline: number): Promise<void> {
    this.#initializing ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        const conn = await connect();
        const { version, response } = await conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 0x7fffffff });
        if (response.errorCode === 0) {
          this.setIdentity(response.producerId, response.producerEpoch);
          debug('producer id %s epoch %d from %s', this.producerId, this.epoch, conn.address);
          return;
        }
        const err = new BrokerError(response.errorCode, { broker: conn.address, api: `InitProducerId v${version}` });
        if (!err.retriable || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(1000, retryBackoffMs * 2 ** attempt)));
      }
    })().finally(() => {
      this.#initializing = undefined;
    });
    return this.#initializing;
  }

  /**
   * A new id or epoch (InitProducerId, or EndTxn v5). Partitions take it up as their
   * batches under the old one are answered (see takeSequence).
   */
  setIdentity(producerId: bigint, epoch: number): void {
    this.producerId = producerId;
    this.epoch = epoch;
    this.bumpRequired = false;
  }
}
