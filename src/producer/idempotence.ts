/**
 * The idempotent producer's identity: a producer id and epoch from InitProducerId. The
 * per-partition half (sequences, what each leader acknowledged) lives on PartitionState;
 * what a refusal means lives in sequencer.ts.
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
import { InitProducerId } from '../protocol/apis/index.js';
import { backoffDelay, type BackoffSettings } from './backoff.js';
import type { BrokerChannel } from './broker-channel.js';
import { sleep, type Clock } from './clock.js';

const debug = debuglog('kafka-wire');
const MAX_EPOCH = 0x7fff;
const MAX_SEQUENCE = 0x7fffffff;

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

export interface InitProducerIdContext {
  any(): Promise<BrokerChannel>;
  clock: Clock;
  backoff: BackoffSettings;
  /** Aborted when the producer closes. */
  signal: AbortSignal;
}

export class ProducerIdentity {
  producerId = -1n;
  epoch = -1;
  #initializing: Promise<void> | undefined;

  get ready(): boolean {
    return this.producerId >= 0n;
  }

  get initializing(): boolean {
    return this.#initializing !== undefined;
  }

  /**
   * A partition proved that its unanswered batches, sent under `stamp`, are not in the
   * log, and restarts its sequences. If `stamp` is the current epoch, the epoch moves on
   * (a new id once it is exhausted), because a broker never takes sequence 0 twice
   * within one epoch.
   */
  moveOnFrom(stamp: Stamp): void {
    if (stamp.producerId !== this.producerId || stamp.producerEpoch < this.epoch) return;
    if (this.epoch >= MAX_EPOCH) {
      // The sender runs InitProducerId again.
      this.producerId = -1n;
      this.epoch = -1;
      debug('producer epoch exhausted: a new producer id is needed');
    } else {
      this.epoch++;
      debug('producer epoch bumped to %d', this.epoch);
    }
  }

  /** Asks any broker for a producer id (single-flight), retrying what is retriable until `deadline`. */
  startInit(ctx: InitProducerIdContext, deadline: number): Promise<void> {
    this.#initializing ??= (async () => {
      for (let failures = 1; ; failures++) {
        try {
          const conn = await ctx.any();
          const { version, response } = await conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 0x7fffffff });
          if (response.errorCode === 0) {
            this.setIdentity(response.producerId, response.producerEpoch);
            debug('producer id %s epoch %d from %s', this.producerId, this.epoch, conn.address);
            return;
          }
          throw new BrokerError(response.errorCode, { broker: conn.address, api: `InitProducerId v${version}` });
        } catch (err) {
          const retriable = (err as { retriable?: boolean }).retriable === true;
          if (!retriable || ctx.clock.now() > deadline || ctx.signal.aborted) throw err;
        }
        await sleep(ctx.clock, backoffDelay(ctx.backoff, failures), ctx.signal);
      }
    })().finally(() => {
      this.#initializing = undefined;
    });
    return this.#initializing;
  }

  /** A new id or epoch (InitProducerId, or EndTxn v5). Partitions take it up as their old batches are answered. */
  setIdentity(producerId: bigint, epoch: number): void {
    this.producerId = producerId;
    this.epoch = epoch;
  }
}
