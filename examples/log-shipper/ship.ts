/**
 * Ships log lines from stdin to a Kafka topic, one record per line, for as long as the
 * input lasts. Telemetry rules: the newest lines matter most, so when Kafka cannot keep
 * up and the memory budget is full, the oldest lines not yet sent are dropped (and
 * counted) instead of the program stalling or growing without bound.
 *
 *   tail -F /var/log/app.log | KAFKA_BOOTSTRAP=127.0.0.1:9092 TOPIC=logs npx tsx ship.ts
 */
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { Producer, RecordDroppedError, type DeliveryCallback } from 'kafka-wire';

const topic = process.env.TOPIC ?? 'logs';
const producer = new Producer({
  bootstrap: process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092',
  clientId: 'log-shipper',
  // Log lines compress well; gzip needs no optional package.
  compression: 'gzip',
  lingerMs: 50,
  // What may wait unsent; past it, the oldest unsent lines make room for new ones.
  bufferMemory: Number(process.env.BUFFER_MEMORY ?? 16 * 1024 * 1024),
  bufferFullPolicy: 'drop-oldest',
});

// One warning per episode of dropping, not one per line: a drop after a delivery starts a
// new episode.
let dropping = false;
let errorsShown = 0;
const delivered: DeliveryCallback = (err) => {
  if (!err) {
    dropping = false;
  } else if (err instanceof RecordDroppedError) {
    if (!dropping) console.error('log-shipper: Kafka is not keeping up; dropping the oldest unsent lines');
    dropping = true;
  } else if (errorsShown++ < 5) {
    console.error('log-shipper: a line was not delivered:', err.message);
  }
};

// Every line of this host goes to the same partition, so its lines stay in order.
const key = hostname();
let read = 0;
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  read++;
  // false: the line had to wait (metadata not there yet, or memory full of lines already
  // in requests, which cannot be dropped). Stop reading until the producer catches up,
  // as with stream.write(); stdin then stays unread and the writer slows down.
  if (!producer.produce({ topic, key, value: line }, delivered)) await producer.ready();
}

await producer.flush();
await producer.close();
const m = producer.metrics();
const failed = m.recordsFailed - m.recordsDropped;
console.error(`log-shipper: ${read} lines read, ${m.recordsSent} sent, ${m.recordsDropped} dropped, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
