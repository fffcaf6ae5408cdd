/**
 * kafka-wire/opentelemetry against a real broker, with the OpenTelemetry SDK's in-memory
 * exporter: a PRODUCER span per record under the caller's span, with the messaging
 * attributes; a CLIENT span per Produce request; and the W3C traceparent the record
 * carries, read back from the broker, naming the record's span.
 */
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { instrumentKafkaWire, type KafkaWireInstrumentation } from '../../src/opentelemetry/index.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const [cluster] = singleNodeClusters();

function spans0(exporter: InMemorySpanExporter): ReadableSpan[] {
  return exporter.getFinishedSpans();
}

/** The spans as an indented tree (name, kind, the attributes that matter), for the test output. */
function tree(spans: readonly ReadableSpan[]): string {
  const children = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of children.get(parent) ?? []) {
      const a = s.attributes;
      const landed = a['messaging.kafka.offset'] !== undefined ? `-${a['messaging.destination.partition.id']} @${a['messaging.kafka.offset']}` : '';
      const where = a['messaging.destination.name'] ? ` ${a['messaging.destination.name']}${landed}` : '';
      const batch = a['messaging.batch.message_count'] !== undefined ? ` (${a['messaging.batch.message_count']} records)` : '';
      const status = s.status.code === SpanStatusCode.ERROR ? ` ERROR ${a['error.type']}` : '';
      lines.push(`${'  '.repeat(depth)}${s.name} [${SpanKind[s.kind]}]${where}${batch}${status}`);
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

describe.runIf(cluster)('kafka-wire/opentelemetry', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let instrumentation: KafkaWireInstrumentation;
  let broker: BrokerConnection;

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    instrumentation = instrumentKafkaWire({ tracerProvider: provider, injectTraceContext: true });
    broker = await openBroker(cluster!);
  });
  afterAll(async () => {
    instrumentation?.disable();
    context.disable();
    await broker?.close();
    await provider.shutdown();
  });

  it('a span per record under the caller\'s span, one per request, and the traceparent the record carries names its span', async () => {
    const topic = uniqueTopic('otel');
    await createTopic(broker, topic, { partitions: 2 });
    const producer = new Producer({ bootstrap: cluster!.bootstrap, clientId: 'otel-test', lingerMs: 20 });
    exporter.reset();
    const tracer = provider.getTracer('test');
    const delivered = await tracer.startActiveSpan('handle request', async (parent) => {
      try {
        return await Promise.all([
          producer.send({ topic, partition: 0, key: 'user-1', value: 'a' }),
          producer.send({ topic, partition: 0, key: 'user-2', value: 'bb' }),
          producer.send({ topic, partition: 1, value: 'ccc', headers: { own: 'kept' } }),
        ]);
      } finally {
        parent.end();
      }
    });
    // produce()'s callback runs in the caller's context: its span is the caller's, even
    // though the answer comes on a connection another caller's send opened.
    const inCallback = await tracer.startActiveSpan('another request', (span) =>
      new Promise<string | undefined>((resolve) => {
        producer.produce({ topic, partition: 1, value: 'dddd' }, () => resolve(trace.getActiveSpan()?.spanContext().spanId));
        span.end();
      }),
    );
    expect(inCallback).toBe(spans0(exporter).find((s) => s.name === 'another request')?.spanContext().spanId);
    const bad = (await producer.send({ topic: 'not a topic name', value: 'nowhere' }).catch((e: unknown) => e)) as Error;
    await producer.close();
    const spans = exporter.getFinishedSpans();
    console.log(`span tree:\n${tree(spans)}`);

    const parent = spans.find((s) => s.name === 'handle request')!;
    // In send order: the values were 1, 2 and 3 bytes long (spans finish in answer order).
    const sends = spans
      .filter((s) => s.kind === SpanKind.PRODUCER && s.parentSpanContext?.spanId === parent.spanContext().spanId)
      .sort((a, b) => Number(a.attributes['messaging.message.body.size']) - Number(b.attributes['messaging.message.body.size']));
    expect(sends).toHaveLength(3);
    for (const [i, span] of sends.entries()) {
      expect(span.name).toBe(`send ${topic}`);
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(delivered[i]!.partition),
        'messaging.kafka.offset': Number(delivered[i]!.offset),
        'messaging.client.id': 'otel-test',
      });
    }
    expect(sends[0]!.attributes['messaging.kafka.message.key']).toBe('user-1');

    const requests = spans.filter((s) => s.kind === SpanKind.CLIENT && s.name === 'produce');
    expect(requests.length).toBeGreaterThanOrEqual(1);
    // A request carries many callers' records: it is a trace of its own, in no caller's.
    for (const r of requests) expect(r.parentSpanContext).toBeUndefined();
    expect(requests.reduce((n, s) => n + Number(s.attributes['messaging.batch.message_count']), 0)).toBeGreaterThanOrEqual(3);

    // A name Kafka never accepts: send() refuses it at once, and its span ends with the error.
    const failed = spans.find((s) => s.kind === SpanKind.PRODUCER && s.status.code === SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe(bad.name);

    for (const [partition, expected] of [
      [0, sends.slice(0, 2)],
      [1, sends.slice(2)],
    ] as const) {
      const { records } = await readPartition(broker, { topic, partition });
      // Partition 1 also has the record produced from 'another request'.
      expect(records.length).toBeGreaterThanOrEqual(expected.length);
      for (const [i, r] of records.slice(0, expected.length).entries()) {
        const header = r.headers.find((h) => h.key === 'traceparent');
        const c = expected[i]!.spanContext();
        expect(header?.value?.toString()).toBe(`00-${c.traceId}-${c.spanId}-01`);
      }
    }
    const [withOwn] = (await readPartition(broker, { topic, partition: 1 })).records;
    expect(withOwn!.headers.map((h) => h.key)).toEqual(['own', 'traceparent']);
    expect(trace.getActiveSpan()).toBeUndefined();
  }, 30_000);
});
