/**
 * kafka-wire/opentelemetry on a fake clock and a scripted cluster, for what a real broker
 * cannot be made to do: a Produce request that could not be written still ends its span
 * (as the records' spans end), marked with the error.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect, it } from 'vitest';
import { instrumentKafkaWire, type KafkaWireInstrumentation } from '../../../src/opentelemetry/index.js';
import { closeWithin, scripted, withBrokenProduceEncoder } from '../../helpers/producer-harness.js';

let instrumentation: KafkaWireInstrumentation | undefined;
afterEach(() => instrumentation?.disable());

it('a request that could not be encoded ends its span with the error, and the record spans end too', async () => {
  const exporter = new InMemorySpanExporter();
  instrumentation = instrumentKafkaWire({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) });
  const s = scripted();
  await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'warm-up' }), 10_000);
  exporter.reset();

  const bug = new Error('encoder bug');
  const outcome = s.producer.send({ topic: 't', partition: 0, value: 'a' }).catch((e: unknown) => e as Error);
  expect(await withBrokenProduceEncoder(bug, () => s.clock.drive(outcome, 1000))).toBe(bug);

  const spans = exporter.getFinishedSpans();
  expect(spans.map((span) => span.name).sort()).toEqual(['produce', 'send t']);
  for (const span of spans) expect(span.status.code).toBe(SpanStatusCode.ERROR);
  await closeWithin(s, 1000);
});
