/**
 * A fixed set of transactional producers, for the request-per-transaction pattern (an
 * HTTP handler that writes in a transaction): borrow one, run one transaction, give it
 * back. At most `size` transactions run at once; more wait their turn in order. Each
 * producer has its own transactional id (`prefix-0` …); one that ends in a fatal state
 * (fenced, unauthorized) is closed and replaced, never handed out again.
 */
import { ConfigError, ProducerClosedError } from '../errors.js';
import { shown } from '../shown.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { resolveOptions } from './options.js';
import { Producer, type ProducerInternals } from './producer.js';
import type { ProducerOptions } from './types.js';

export interface TransactionalPoolOptions extends Omit<ProducerOptions, 'transactionalId'> {
  /** Producers in the pool: the most transactions at once. */
  size: number;
  /** Transactional ids are `${transactionalIdPrefix}-${slot}`; keep it unique per application instance. */
  transactionalIdPrefix: string;
}

export interface PoolCloseOptions {
  /**
   * How long close() waits for the transactions under way to end (each run commits or
   * aborts its own) and the producers to close; default the producers' deliveryTimeoutMs.
   * Runs still going then fail with ProducerClosedError, their transactions left open for
   * the coordinator to abort at transactionTimeoutMs.
   */
  timeoutMs?: number;
}

export class TransactionalProducerPool {
  readonly #options: TransactionalPoolOptions;
  readonly #internals: ProducerInternals | undefined;
  readonly #clock: Clock;
  readonly #deliveryTimeoutMs: number;
  /** Runs holding a producer now: close() waits for them. */
  readonly #running = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  readonly #slots: Array<Producer | undefined>;
  readonly #idle: number[] = [];
  readonly #waiters: Array<{ resolve: (slot: number) => void; reject: (err: Error) => void }> = [];
  #closed = false;
  /** Producers replaced after a fatal error, for metrics and tests. */
  replaced = 0;

  constructor(options: TransactionalPoolOptions, internals?: ProducerInternals) {
    if (typeof options !== 'object' || options === null) throw new ConfigError(`TransactionalProducerPool takes an options object, got ${shown(options)}`);
    if (!Number.isInteger(options.size) || options.size < 1) throw new ConfigError(`size must be a positive integer, got ${shown(options.size)}`);
    const { transactionalIdPrefix } = options;
    if (typeof transactionalIdPrefix !== 'string' || transactionalIdPrefix === '') {
      throw new ConfigError(`transactionalIdPrefix is required: a non-empty string, unique per application instance (the producers' transactional ids are prefix-0, prefix-1, …), got ${shown(transactionalIdPrefix)}`);
    }
    if ('transactionalId' in options) {
      throw new ConfigError('transactionalId is not a pool option: the pool names its producers prefix-0, prefix-1, … from transactionalIdPrefix');
    }
    // The producers are made on first use: their options are checked now, not at the first run.
    const { size: _size, transactionalIdPrefix: _prefix, ...producerOptions } = options;
    this.#deliveryTimeoutMs = resolveOptions({ ...producerOptions, transactionalId: `${transactionalIdPrefix}-0` }).deliveryTimeoutMs;
    this.#options = options;
    this.#internals = internals;
    this.#clock = internals?.clock ?? systemClock;
    this.#slots = new Array<Producer | undefined>(options.size).fill(undefined);
    for (let i = options.size - 1; i >= 0; i--) this.#idle.push(i);
  }

  /** Runs `fn` in a transaction on a pooled producer; commits on success, aborts on error. */
  async run<T>(fn: (producer: Producer) => Promise<T>): Promise<T> {
    const slot = await this.#borrow();
    // Closed while this run waited for its slot: no producer is made after close().
    if (this.#closed) {
      await this.#giveBack(slot);
      throw this.#closedError();
    }
    const running = this.#runOn(slot, fn);
    this.#running.add(running);
    try {
      return await running;
    } finally {
      this.#running.delete(running);
    }
  }

  async #runOn<T>(slot: number, fn: (producer: Producer) => Promise<T>): Promise<T> {
    try {
      const producer = (this.#slots[slot] ??= this.#create(slot));
      return await producer.transaction(fn);
    } finally {
      await this.#giveBack(slot);
    }
  }

  /**
   * Takes no more runs (those waiting for a producer fail with ProducerClosedError), waits
   * for the runs under way to commit or abort (up to `timeoutMs`), then closes every producer.
   */
  close(options: PoolCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#deliveryTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#closedError());
    const clock = this.#clock;
    const deadline = clock.now() + timeoutMs;
    if (this.#running.size > 0) {
      let timer: TimerHandle | undefined;
      const settled = Promise.allSettled([...this.#running]);
      await Promise.race([settled, new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, timeoutMs)))]);
      clock.clearTimeout(timer);
    }
    const left = Math.max(0, deadline - clock.now());
    await Promise.all(this.#slots.map((p) => p?.close({ timeoutMs: left })));
  }

  #closedError(): ProducerClosedError {
    return new ProducerClosedError('the transactional producer pool is closed');
  }

  #create(slot: number): Producer {
    const { size: _size, transactionalIdPrefix, ...producerOptions } = this.#options;
    return new Producer({ ...producerOptions, transactionalId: `${transactionalIdPrefix}-${slot}` }, this.#internals);
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
