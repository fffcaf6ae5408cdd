/**
 * The producer's instrumentation events. CONNECT and DISCONNECT come from the drop-in
 * itself; the network events come from kafka-wire's `tracing:kafka-wire:produce` channel,
 * so they cover Produce requests (the requests that carry records), not metadata or
 * transaction-coordinator requests, which kafka-wire does not publish.
 *
 * The channel is process-wide; a request belongs to this producer when one of its
 * kafka-wire producers' `requestsSent` moved, which kafka-wire counts synchronously just
 * before publishing the request's start.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { RequestTimeoutError } from '../errors.js';
import type { Producer as WireProducer } from '../producer/producer.js';
import type { ProduceTraceContext } from '../producer/tracing.js';
import { KafkaJSNonRetriableError } from './errors.js';
import type { Logger } from './logger.js';
import type { InstrumentationEvent, ProducerEvents, RemoveInstrumentationEventListener } from './types.js';

export const events: ProducerEvents = Object.freeze({
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
});

const NAMES = new Set<string>(Object.values(events));
const NETWORK = new Set<string>([events.REQUEST, events.REQUEST_TIMEOUT, events.REQUEST_QUEUE_SIZE]);
const PRODUCE_API_KEY = 0;

type Listener = (event: InstrumentationEvent<unknown>) => unknown;

interface Pending {
  createdAt: number;
}

/** Event ids as KafkaJS numbers them: one counter for the process, from 0. */
let lastEventId = -1;
function nextEventId(): number {
  lastEventId = lastEventId === Number.MAX_SAFE_INTEGER ? 0 : lastEventId + 1;
  return lastEventId;
}

export class ProducerEventEmitter {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #logger: Logger;
  readonly #clientId: string;
  /** The kafka-wire producers whose requests are ours, with the request count last seen. */
  readonly #producers = new Map<WireProducer, number>();
  readonly #pending = new WeakMap<ProduceTraceContext, Pending>();
  #subscribed = false;
  readonly #handlers = {
    start: (ctx: ProduceTraceContext) => this.#onStart(ctx),
    asyncStart: (ctx: ProduceTraceContext) => this.#onAnswer(ctx),
    error: (ctx: ProduceTraceContext) => this.#onError(ctx),
  };

  constructor(logger: Logger, clientId: string) {
    this.#logger = logger;
    this.#clientId = clientId;
  }

  on(eventName: string, listener: Listener): RemoveInstrumentationEventListener {
    if (!NAMES.has(eventName)) {
      const keys = Object.keys(events).map((k) => `producer.events.${k}`).join(', ');
      throw new KafkaJSNonRetriableError(`Event name should be one of ${keys}`);
    }
    let set = this.#listeners.get(eventName);
    if (!set) this.#listeners.set(eventName, (set = new Set()));
    // A wrapper per registration, so the same listener added twice is removed once per call.
    const entry: Listener = (event) => listener(event);
    set.add(entry);
    this.#resubscribe();
    return () => {
      set.delete(entry);
      this.#resubscribe();
    };
  }

  emit(type: string, payload: unknown = null): void {
    const set = this.#listeners.get(type);
    if (!set?.size) return;
    // A number, as KafkaJS gives it, where its types (and so ours) say string.
    const event = { id: nextEventId() as unknown as string, type, timestamp: Date.now(), payload };
    for (const listener of set) {
      // A listener's failure is logged and goes no further, as in KafkaJS; whatever it threw
      // (undefined included), and whatever the user's logger then does: an unhandled
      // rejection here would end the process.
      Promise.resolve()
        .then(() => listener(event))
        .catch((e: unknown) => {
          const err = e instanceof Error ? e : undefined;
          try {
            this.#logger.error(`Failed to execute listener: ${err ? err.message : String(e)}`, { eventName: type, stack: err?.stack });
          } catch {
            // The logger failed too: nothing left to tell.
          }
        });
    }
  }

  track(producer: WireProducer): void {
    this.#producers.set(producer, producer.metrics().requestsSent);
  }

  untrackAll(): void {
    this.#producers.clear();
  }

  #wantsNetwork(): boolean {
    for (const name of NETWORK) if (this.#listeners.get(name)?.size) return true;
    return false;
  }

  #resubscribe(): void {
    const want = this.#wantsNetwork();
    if (want === this.#subscribed) return;
    const channel = tracingChannel<ProduceTraceContext, ProduceTraceContext>('kafka-wire:produce');
    if (want) channel.subscribe(this.#handlers as never);
    else channel.unsubscribe(this.#handlers as never);
    this.#subscribed = want;
    // Counts move while nobody listens: start from now.
    for (const p of this.#producers.keys()) this.#producers.set(p, p.metrics().requestsSent);
  }

  #onStart(ctx: ProduceTraceContext): void {
    for (const [producer, seen] of this.#producers) {
      const metrics = producer.metrics();
      if (metrics.requestsSent === seen) continue;
      this.#producers.set(producer, metrics.requestsSent);
      this.#pending.set(ctx, { createdAt: Date.now() });
      const inFlight = metrics.brokers.find((b) => b.address === ctx.broker)?.requestsInFlight ?? 0;
      this.emit(events.REQUEST_QUEUE_SIZE, { broker: ctx.broker, clientId: this.#clientId, queueSize: inFlight });
      return;
    }
  }

  #base(ctx: ProduceTraceContext, pending: Pending): object {
    return {
      apiKey: PRODUCE_API_KEY,
      apiName: 'Produce',
      apiVersion: ctx.version,
      broker: ctx.broker,
      clientId: this.#clientId,
      correlationId: ctx.requestId,
      createdAt: pending.createdAt,
      sentAt: pending.createdAt,
      pendingDuration: 0,
    };
  }

  #onAnswer(ctx: ProduceTraceContext): void {
    const pending = this.#pending.get(ctx);
    if (!pending || ctx.error) return;
    this.emit(events.REQUEST, { ...this.#base(ctx, pending), duration: Date.now() - pending.createdAt, size: ctx.bytes });
  }

  #onError(ctx: ProduceTraceContext): void {
    const pending = this.#pending.get(ctx);
    if (pending && ctx.error instanceof RequestTimeoutError) this.emit(events.REQUEST_TIMEOUT, this.#base(ctx, pending));
  }
}
