/**
 * One sendBatch() call: its records' results in order, resolved once every record is
 * delivered, rejected at the first failure. The records it had not taken in by then
 * (its BatchRests, waiting in line with the other sends: waiting.ts) are never sent.
 */
import { AsyncResource } from 'node:async_hooks';
import { AbortedError, InvalidRecordError } from '../errors.js';
import { shown } from '../shown.js';
import { onAbort } from './abort-listeners.js';
import type { DeliveryCallback, ProducerRecord, RecordMetadata } from './types.js';
import type { BatchRest, RestOwner, WaitingSends } from './waiting.js';

/** What the producer does to take one record of the call in (see RestOwner.takeIn). */
export type TakeRecordIn = (record: ProducerRecord, callback: DeliveryCallback) => { record: ProducerRecord; timestamp: number; callback: DeliveryCallback };

export class SendBatchCall implements RestOwner {
  readonly promise: Promise<RecordMetadata[]>;
  readonly #records: readonly ProducerRecord[];
  readonly #results: RecordMetadata[];
  #undelivered: number;
  #settled = false;
  #resolve!: (results: RecordMetadata[]) => void;
  #reject!: (err: Error) => void;
  #rests: readonly BatchRest[] = [];
  #restsLeft = 0;
  #offAbort: (() => void) | undefined;
  /** Set while addRest runs: rests it made may end before the call knows how many there are. */
  #queueing = false;
  readonly #waiting: WaitingSends;
  #takeRecordIn: TakeRecordIn;

  constructor(records: readonly ProducerRecord[], waiting: WaitingSends, takeRecordIn: TakeRecordIn) {
    this.#records = records;
    this.#results = new Array<RecordMetadata>(records.length);
    this.#undelivered = records.length;
    this.#waiting = waiting;
    this.#takeRecordIn = takeRecordIn;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (records.length === 0) this.#resolve([]);
  }

  /** The callback of the record at `index`. */
  callbackFor(index: number): DeliveryCallback {
    return (err, metadata) => {
      if (err) this.fail(err);
      else this.#delivered(index, metadata!);
    };
  }

  /**
   * Puts the records from `from` on in line behind the sends waiting now (a BatchRest per
   * topic), to be taken in as their turn comes; `signal` aborting stops them.
   */
  queueRest(from: number, signal: AbortSignal | undefined): void {
    if (this.#settled) return;
    if (signal) {
      // One listener for the call: a record already taken in has its own (in its batch, or waiting).
      this.#offAbort = onAbort(signal, () => this.fail(new AbortedError('sendBatch() aborted before all of its records were taken in; the rest were never sent', { cause: signal.reason })));
    }
    // Taken in later, from the waiting line: in the caller's async context (its trace span,
    // its AsyncLocalStorage), as a send() made where the call was.
    this.#takeRecordIn = AsyncResource.bind(this.#takeRecordIn);
    this.#queueing = true;
    let rests: BatchRest[];
    try {
      rests = this.#waiting.addRest(this.#records, from, signal, this);
    } finally {
      this.#queueing = false;
    }
    // Some may have ended already (taken in at once, or the call failed meanwhile).
    this.#restsLeft += rests.length;
    this.#rests = rests;
    if (this.#settled) for (const rest of rests) this.#waiting.stop(rest);
    this.#maybeOffAbort();
  }

  takeIn(index: number, topic: string): { record: ProducerRecord; timestamp: number; callback: DeliveryCallback } {
    const record = this.#records[index]!;
    // Read again now: the caller was to leave it unchanged, and it waited in the line of the topic it had.
    if (record?.topic !== topic) {
      throw new InvalidRecordError(`sendBatch(): record ${index} changed while it waited to be taken in (its topic was ${topic}, now ${shown(record?.topic)}); leave records unchanged until the call settles`);
    }
    return this.#takeRecordIn(record, this.callbackFor(index));
  }

  ended(_rest: BatchRest): void {
    this.#restsLeft--;
    this.#maybeOffAbort();
  }

  fail(err: Error): void {
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(err);
    }
    for (const rest of this.#rests) this.#waiting.stop(rest);
  }

  #delivered(index: number, metadata: RecordMetadata): void {
    this.#results[index] = metadata;
    if (--this.#undelivered === 0 && !this.#settled) {
      this.#settled = true;
      this.#resolve(this.#results);
    }
  }

  #maybeOffAbort(): void {
    if (this.#queueing || this.#restsLeft > 0 || !this.#offAbort) return;
    this.#offAbort();
    this.#offAbort = undefined;
  }
}
