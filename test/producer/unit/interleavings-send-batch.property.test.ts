/**
 * The interleavings property (test/helpers/interleavings.ts) with sendBatch() calls among
 * the other events, under a memory budget of a few batches, so that calls often cannot
 * take all their records in at once and the rest waits in line (some with a signal that
 * an abort event may fire). Each record's fate is read from the send tracing channel:
 * taken in or not, and how it ended. Besides the base invariants (every record taken in
 * ends once; per partition, each delivered record once, in call order, at its offset;
 * nothing that ended unsent is written):
 *   - a record never taken in (its call stopped, or was made after close()) is never written;
 *   - every call settles exactly once by the end of close(): resolved only when all of
 *     its records were delivered, with their metadata in order; rejected only for a
 *     reason the events called for, and then some record of it failed or was never taken in.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProducerRecord, RecordMetadata } from '../../../src/index.js';
import { assertInterleavings, calledFor, event, PARTITIONS, type Event, type Run } from '../../helpers/interleavings.js';
import type { Outcome } from '../../helpers/producer-harness.js';

type BatchEvent = { kind: 'batch'; to: readonly number[]; signal: boolean };

const events: fc.Arbitrary<Event | BatchEvent> = fc.oneof(
  { weight: 8, arbitrary: event },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      // Where each record goes: one partition or several, topics mixed.
      to: fc.array(fc.nat(PARTITIONS.length - 1), { minLength: 1, maxLength: 25 }),
      signal: fc.boolean(),
    }),
  },
);

interface Call {
  outcomes: Outcome[];
  settled: number;
  result: RecordMetadata[] | undefined;
  error: Error | undefined;
}

/** This run's calls, and its sendBatch() records by object (what the tracing channel carries). */
let calls: Call[] = [];
let byRecord = new Map<ProducerRecord, Outcome>();

interface SendContext {
  record: ProducerRecord;
  error?: Error;
  result?: RecordMetadata;
}
/** A send's synchronous part ended: taken in, unless it threw (ended already through its callback does not count as thrown). */
const onSyncEnd = (message: unknown): void => {
  const { record, error } = message as SendContext;
  const o = byRecord.get(record);
  if (o) o.takenIn = !(error !== undefined && o.calls === 0);
};
/** Replaced each run: the run's Sends ends the outcomes. */
let onEnd: (message: unknown) => void = () => undefined;
const asyncStart = (message: unknown): void => onEnd(message);

const UNSENT = /\(bufferMemory\)|\(waitingMemory\)/;

describe('random interleavings with sendBatch() calls and a memory budget of a few batches', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keep every invariant, each call settling once and in line with the sends around it', async () => {
    subscribe('tracing:kafka-wire:send:end', onSyncEnd);
    subscribe('tracing:kafka-wire:send:asyncStart', asyncStart);
    try {
      await assertInterleavings(events, {
        beforeRun: () => {
          calls = [];
          byRecord = new Map();
        },
        options: { bufferMemory: 1024, waitingMemory: 8192 },
        // After close() a call is refused whole (its records never taken in, checked at the end).
        apply: (run: Run, e: BatchEvent) => {
          const { sends } = run.s;
          onEnd = (message) => {
            const { record, error, result } = message as SendContext;
            const o = byRecord.get(record);
            if (o) sends.ended(o, error ?? null, result ?? null);
          };
          const records: ProducerRecord[] = [];
          const outcomes: Outcome[] = [];
          for (const to of e.to) {
            const [topic, partition] = PARTITIONS[to]!;
            const record = { topic, partition, value: `v${sends.all.length}`.padEnd(40, '.') };
            run.sentTo[to]!.push(record.value);
            const o = sends.tracked(record);
            o.takenIn = false;
            byRecord.set(record, o);
            records.push(record);
            outcomes.push(o);
          }
          const call: Call = { outcomes, settled: 0, result: undefined, error: undefined };
          calls.push(call);
          let signal: AbortSignal | undefined;
          if (e.signal) {
            const controller = new AbortController();
            run.controllers.push(controller);
            signal = controller.signal;
          }
          run.s.producer.sendBatch(records, { signal }).then(
            (result) => {
              call.settled++;
              call.result = result;
            },
            (err: Error) => {
              call.settled++;
              call.error = err;
            },
          );
        },
        afterRun: () => {
          for (const call of calls) {
            const values = call.outcomes.map((o) => o.record.value);
            expect(call.settled, `sendBatch() of ${values.join(' ')} settled`).toBe(1);
            if (call.result) {
              expect(call.outcomes.every((o) => o.takenIn === true && o.calls === 1 && !o.error), `resolved sendBatch() of ${values.join(' ')}: every record delivered`).toBe(true);
              expect(call.result.map((m) => m.offset)).toEqual(call.outcomes.map((o) => o.metadata!.offset));
            } else {
              const e = call.error!;
              expect(calledFor(e, UNSENT), `sendBatch() rejected with ${e.name}: ${e.message}`).toBe(true);
              expect(call.outcomes.some((o) => o.takenIn === false || o.error), `rejected sendBatch() of ${values.join(' ')}: a record failed or was never taken in`).toBe(true);
            }
          }
        },
        unsent: UNSENT,
      });
    } finally {
      unsubscribe('tracing:kafka-wire:send:end', onSyncEnd);
      unsubscribe('tracing:kafka-wire:send:asyncStart', asyncStart);
    }
  }, 180_000);
});
