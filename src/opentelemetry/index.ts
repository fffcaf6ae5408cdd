/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * OpenTelemetry spans for kafka-wire, from its diagnostics channels (producer/tracing.ts):
 * a PRODUCER span per record, `send <topic>`, from send()/produce() to its delivery
 * callback, child of the context active at send(); and a CLIENT span per Produce request.
 * Attributes follow the OpenTelemetry messaging semantic conventions.
 *
 *   import { instrumentKafkaWire } from 'kafka-wire/opentelemetry';
 *   const instrumentation = instrumentKafkaWire({ injectTraceContext: true });
 *   // ... instrumentation.disable();
 *
 * With `injectTraceContext`, each record carries the W3C `traceparent` (and `tracestate`)
 * of its span in its headers, so a consumer can continue the trace. Opt-in: headers are
 * bytes on the wire and in the log.
 *
 * Needs `@opentelemetry/api` (an optional peer dependency); without subscribers the
 * producer publishes nothing and builds nothing for tracing.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TracerProvider } from '@opentelemetry/api';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BrokerError } from '../errors.js';
import type { ProduceTraceContext, SendTraceContext } from '../producer/tracing.js';

export interface KafkaWireInstrumentationOptions {
  /** Where spans go; the global tracer provider by default. */
  tracerProvider?: TracerProvider;
  /** Write each record span's W3C trace context into the record's headers. Default false. */
  injectTraceContext?: boolean;
  /** A CLIENT span per Produce request (one per broker round trip). Default true. */
  requestSpans?: boolean;
}

export interface KafkaWireInstrumentation {
  /** Stops creating spans (spans already started still end). */
  disable(): void;
}

const NAME = 'kafka-wire';
const SEND = 'tracing:kafka-wire:send';
const PRODUCE = 'tracing:kafka-wire:produce';

/** A low-cardinality name for what went wrong, as `error.type` wants. */
function errorType(err: Error): string {
  return err instanceof BrokerError ? err.type : err.name;
}

function failed(span: Span, err: Error): void {
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  span.setAttribute('error.type', errorType(err));
}

/** `00-<trace id>-<span id>-<flags>`: the W3C traceparent of a span. */
function traceparent(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

function keyAttribute(key: SendTraceContext['record']['key']): string | undefined {
  if (key === null || key === undefined) return undefined;
  return typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
}

function bodySize(value: SendTraceContext['record']['value']): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}

export function instrumentKafkaWire(options: KafkaWireInstrumentationOptions = {}): KafkaWireInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME);
  const spans = new WeakMap<object, Span>();
  const end = (message: unknown): void => {
    const ctx = message as object;
    const span = spans.get(ctx);
    if (!span) return;
    spans.delete(ctx);
    span.end();
  };

  // Both contexts carry the error that failed them.
  const error = (message: unknown): void => {
    const ctx = message as { error: Error | undefined };
    const span = spans.get(ctx);
    if (span && ctx.error) failed(span, ctx.error);
  };

  const send = {
    start(message: unknown): void {
      const ctx = message as SendTraceContext;
      const { record } = ctx;
      const attributes: Attributes = {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': record.topic,
        'messaging.client.id': ctx.clientId,
        'messaging.message.body.size': bodySize(record.value),
      };
      const key = keyAttribute(record.key);
      if (key !== undefined) attributes['messaging.kafka.message.key'] = key;
      if (record.partition !== undefined) attributes['messaging.destination.partition.id'] = String(record.partition);
      const span = tracer.startSpan(`send ${record.topic}`, { kind: SpanKind.PRODUCER, attributes }, context.active());
      spans.set(ctx, span);
      if (options.injectTraceContext) {
        const state = span.spanContext().traceState?.serialize();
        ctx.headers = [{ key: 'traceparent', value: traceparent(span) }, ...(state ? [{ key: 'tracestate', value: state }] : [])];
      }
    },
    error,
    asyncStart(message: unknown): void {
      const ctx = message as SendTraceContext;
      const span = spans.get(ctx);
      if (!span || !ctx.result) return;
      span.setAttribute('messaging.destination.partition.id', String(ctx.result.partition));
      if (ctx.result.offset >= 0n) span.setAttribute('messaging.kafka.offset', Number(ctx.result.offset));
    },
    asyncEnd: end,
    // send() threw (bad input): no callback will come, so the span ends here.
    end(message: unknown): void {
      if ((message as SendTraceContext).error) end(message);
    },
  };

  const produce = {
    start(message: unknown): void {
      const ctx = message as ProduceTraceContext;
      const [host, port] = [ctx.broker.slice(0, ctx.broker.lastIndexOf(':')), Number(ctx.broker.slice(ctx.broker.lastIndexOf(':') + 1))];
      // A request carries the records of many callers: it belongs to none of their traces.
      const span = tracer.startSpan('produce', {
        root: true,
        kind: SpanKind.CLIENT,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'produce',
          'messaging.batch.message_count': ctx.records,
          'server.address': host,
          'server.port': port,
          'messaging.kafka.produce.version': ctx.version,
          'messaging.kafka.produce.partitions': ctx.partitions,
          'messaging.kafka.produce.bytes': ctx.bytes,
        },
      });
      spans.set(ctx, span);
    },
    error,
    asyncStart(message: unknown): void {
      const ctx = message as ProduceTraceContext;
      if (ctx.throttleTimeMs) spans.get(ctx)?.setAttribute('messaging.kafka.throttle_time_ms', ctx.throttleTimeMs);
    },
    asyncEnd: end,
    // The request could not be written (not encodable): no answer will come, so the span ends here.
    end(message: unknown): void {
      if ((message as ProduceTraceContext).error) end(message);
    },
  };

  const channels: Array<[string, Record<string, (message: unknown) => void>]> = [[SEND, send]];
  if (options.requestSpans !== false) channels.push([PRODUCE, produce]);
  for (const [prefix, handlers] of channels) for (const [event, fn] of Object.entries(handlers)) subscribe(`${prefix}:${event}`, fn as (m: unknown, name: string | symbol) => void);
  return {
    disable(): void {
      for (const [prefix, handlers] of channels) for (const [event, fn] of Object.entries(handlers)) unsubscribe(`${prefix}:${event}`, fn as (m: unknown, name: string | symbol) => void);
    },
  };
}
