/**
 * The idempotent producer's identity: a producer id and epoch from InitProducerId, and a
 * sequence per partition. The broker keeps the last five batches of each producer and
 * partition, so with at most five batches of a partition in flight, a retry is either
 * written once or recognised as a duplicate, and batches can never be reordered.
 *
 * When the sequences the broker expects can no longer be known (a sequenced batch failed
 * for good, was split, or expired after it was sent; the broker lost our producer state)
 * the epoch is bumped (KIP-360): once nothing is in flight, epoch + 1 and every sequence
 * starts again at 0. An idempotent producer bumps locally, as Java's does; only an
 * exhausted epoch needs a new producer id.
 */
import { debuglog } from 'node:util';
import { BrokerError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { InitProducerId } from '../protocol/apis/index.js';

const debug = debuglog('kafka-wire');
const MAX_EPOCH = 0x7fff;
const MAX_SEQUENCE = 0x7fffffff;

export class ProducerIdentity {
  producerId = -1n;
  epoch = -1;
  /** Set when the sequences must restart under a new epoch, as soon as nothing is in flight. */
  bumpRequired = false;
  readonly #nextSequence = new Map<string, number>();
  #initializing: Promise<void> | undefined;

  get ready(): boolean {
    return this.producerId >= 0n && !this.bumpRequired;
  }

  get initializing(): boolean {
    return this.#initializing !== undefined;
  }

  /** The base sequence for a batch of `count` records, and advances past it (wrapping after int32 max, as Kafka does). */
  takeSequence(key: string, count: number): number {
    const base = this.#nextSequence.get(key) ?? 0;
    const next = base > MAX_SEQUENCE - count ? count - (MAX_SEQUENCE - base) - 1 : base + count;
    this.#nextSequence.set(key, next);
    return base;
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

  /** A new id or epoch (InitProducerId, or EndTxn v5): every sequence starts again at 0. */
  setIdentity(producerId: bigint, epoch: number): void {
    this.producerId = producerId;
    this.epoch = epoch;
    this.#nextSequence.clear();
    this.bumpRequired = false;
  }

  /** KIP-360 epoch bump for an idempotent producer: call only with nothing in flight. */
  bump(): void {
    this.#nextSequence.clear();
    if (this.epoch >= MAX_EPOCH) {
      // Epoch exhausted: a new producer id (the caller runs init again).
      this.producerId = -1n;
      this.epoch = -1;
    } else {
      this.epoch++;
      this.bumpRequired = false;
    }
    debug('producer epoch bumped to %d', this.epoch);
  }
}
