/**
 * A fixed set of transactional producers, for the request-per-transaction pattern (an
 * HTTP handler that writes in a transaction): borrow one, run one transaction, give it
 * back. At most `size` transactions run at once; more wait their turn in order. Each
 * producer has its own transactional id (`prefix-0` …); one that ends in a fatal state
 * (fenced, unauthorized) is closed and replaced, never handed out again.
 */
import { ConfigError, ProducerClosedError } from '../errors.js';
import { shown } from '../shown.js';
import { Producer } from './producer.js';
import type { ProducerOptions } from './types.js';

export interface TransactionalPoolOptions extends Omit<ProducerOptions, 'transactionalId'> {
  /** Producers in the pool: the most transactions at once. */
  size: number;
  /** Transactional ids are `${transactionalIdPrefix}-${slot}`; keep it unique per application instance. */
  transactionalIdPrefix: string;
}

export class TransactionalProducerPool {
  readonly #options: TransactionalPoolOptions;
  readonly #slots: Array<Producer | undefined>;
  readonly #idle: number[] = [];
  readonly #waiters: Array<{ resolve: (slot: number) => void; reject: (err: Error) => void }> = [];
  #closed = false;
  /** Producers replaced after a fatal error, for metrics and tests. */
  replaced = 0;

  constructor(options: TransactionalPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new ConfigError(`size must be a positive integer, got ${shown(options.size)}`);
    this.#options = options;
    this.#slots = new Array<Producer | undefined>(options.size).fill(undefined);
    for (let i = options.size - 1; i >= 0; i--) this.#idle.push(i);
  }

  /** Runs `fn` in a transaction on a pooled producer; commits on success, aborts on error. */
  async run<T>(fn: (producer: Producer) => Promise<T>): Promise<T> {
    const slot = await this.#borrow();
    try {
      // Closed while this run waited for its slot: no producer is made after close().
      if (this.#closed) throw this.#closedError();
      const producer = (this.#slots[slot] ??= this.#create(slot));
      return await producer.transaction(fn);
    } finally {
      await this.#giveBack(slot);
    }
  }

  /** Closes every producer; runs still waiting for a producer fail with ProducerClosedError. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#closedError());
    await Promise.all(this.#slots.map((p) => p?.close()));
  }

  #closedError(): ProducerClosedError {
    return new ProducerClosedError('the transactional producer pool is closed');
  }

  #create(slot: number): Producer {
    const { size: _size, transactionalIdPrefix, ...producerOptions } = this.#options;
    return new Producer({ ...producerOptions, transactionalId: `${transactionalIdPrefix}-${slot}` });
  }

  #borrow(): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const slot = this.#idle.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async #giveBack(slot: number): Promise<void> {
    const producer = this.#slots[slot];
    const state = producer?.transactionState;
    if (producer && state !== 'ready') {
      // Fenced, unauthorized, or stuck mid-transaction: this producer is done for.
      this.#slots[slot] = undefined;
      this.replaced++;
      await producer.close({ timeoutMs: 1000 }).catch(() => undefined);
    }
    const next = this.#waiters.shift();
    if (next) next.resolve(slot);
    else this.#idle.push(slot);
  }
}
