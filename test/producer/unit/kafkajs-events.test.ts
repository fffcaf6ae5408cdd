/**
 * The KafkaJS adapter's network events on a fake clock and a scripted cluster, for what a
 * broker cannot be made to do: after a Produce request that could not be encoded, the next
 * requests still get their request_queue_size and request events (the adapter tells its
 * producer's requests by a rise in requestsSent).
 */
import { expect, it } from 'vitest';
import { events, ProducerEventEmitter } from '../../../src/kafkajs/events.js';
import type { Logger } from '../../../src/kafkajs/logger.js';
import { Produce } from '../../../src/protocol/apis/index.js';
import { closeWithin, scripted, withBrokenProduceEncoder } from '../../helpers/producer-harness.js';

const quiet = { error() {}, warn() {}, info() {}, debug() {} } as unknown as Logger;

it('a request that could not be encoded does not hide the next requests from the request events', async () => {
  const s = scripted();
  const emitter = new ProducerEventEmitter(quiet, 'client');
  const seen: string[] = [];
  emitter.on(events.REQUEST_QUEUE_SIZE, () => void seen.push('request_queue_size'));
  emitter.on(events.REQUEST, () => void seen.push('request'));
  emitter.track(s.producer as never);
  await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'warm-up' }), 10_000);

  const failed = s.producer.send({ topic: 't', partition: 0, value: 'a' }).catch((e: unknown) => e);
  await withBrokenProduceEncoder(new Error('encoder bug'), () => s.clock.drive(failed, 1000));

  seen.length = 0;
  s.cluster.forgetRequests();
  await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'b' }), 10_000);
  // The unsent batch's sequence makes the next request go twice (out of order, then again).
  const requests = s.cluster.requestsOf(Produce).length;
  expect(requests).toBeGreaterThan(0);
  expect(seen).toEqual(Array.from({ length: requests }, () => ['request_queue_size', 'request']).flat());
  await closeWithin(s, 1000);
});

it('a listener that rejects with something that is no Error, and a logger that throws, end nowhere unhandled', async () => {
  const logged: string[] = [];
  const logger = { error: (message: string) => void logged.push(message), warn() {}, info() {}, debug() {} } as unknown as Logger;
  const emitter = new ProducerEventEmitter(logger, 'client');
  emitter.on(events.CONNECT, () => Promise.reject(undefined));
  emitter.on(events.CONNECT, () => {
    throw null;
  });
  emitter.emit(events.CONNECT);
  await new Promise((resolve) => setImmediate(resolve));
  expect(logged.sort()).toEqual(['Failed to execute listener: null', 'Failed to execute listener: undefined']);

  const throwing = { error: () => { throw new Error('logger down'); }, warn() {}, info() {}, debug() {} } as unknown as Logger;
  const other = new ProducerEventEmitter(throwing, 'client');
  other.on(events.CONNECT, () => { throw new Error('listener failed'); });
  other.emit(events.CONNECT);
  await new Promise((resolve) => setImmediate(resolve));
  // Vitest fails the run on an unhandled rejection; reaching here with none is the check.
});

it('event ids are numbers counting up, as KafkaJS gives them', async () => {
  const emitter = new ProducerEventEmitter(quiet, 'client');
  const ids: unknown[] = [];
  emitter.on(events.CONNECT, (e) => void ids.push(e.id));
  emitter.emit(events.CONNECT);
  emitter.emit(events.CONNECT);
  await new Promise((resolve) => setImmediate(resolve));
  expect(ids.map((id) => typeof id)).toEqual(['number', 'number']);
  expect((ids[1] as number) - (ids[0] as number)).toBe(1);
});
