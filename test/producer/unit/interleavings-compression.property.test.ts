/**
 * The interleavings property (test/helpers/interleavings.ts) with gzip, whose batches are
 * compressed off the main thread: here the codec holds each compression until an event
 * lets it finish or fail, so compressions end in any order relative to answers, retries,
 * aborts, expiry, a new epoch and close(). A real codec fails only on a bug or out of
 * memory; its failure must still end its batch's records once, unsent, and nothing else.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, it, vi } from 'vitest';
import { assertInterleavings, event, type Event } from '../../helpers/interleavings.js';

/** Compressions started and not finished, oldest first; `holding`: whether new ones wait for an event. */
const codec = vi.hoisted(() => ({
  holding: true,
  parked: [] as Array<{ data: Buffer; resolve: (b: Buffer) => void; reject: (e: Error) => void }>,
}));

vi.mock('../../../src/protocol/compression/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/protocol/compression/index.js')>();
  return {
    ...real,
    compressSync: (codecId: number, data: Buffer) => (codecId === 0 ? data : undefined),
    compress: (codecId: number, data: Buffer) => {
      if (codecId === 0) return Promise.resolve(data);
      // Copied at once, as the real codec reads its input before answering: a buffer given
      // back too early would show as other bytes in the log.
      const copy = Buffer.from(data);
      if (!codec.holding) return Promise.resolve(gzipSync(copy));
      return new Promise<Buffer>((resolve, reject) => codec.parked.push({ data: copy, resolve, reject }));
    },
  };
});

type CodecEvent =
  | { kind: 'compressed'; pick: number }
  | { kind: 'codec-fails'; pick: number }
  /** From now on compressions finish at once (false), or wait for an event (true). */
  | { kind: 'codec-holds'; holding: boolean };

const FAILURE = 'the codec broke on this batch';

const events: fc.Arbitrary<Event | CodecEvent> = fc.oneof(
  { weight: 8, arbitrary: event },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('compressed' as const), pick: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('codec-fails' as const), pick: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('codec-holds' as const), holding: fc.boolean() }) },
);

function take(pick: number): (typeof codec.parked)[number] | undefined {
  if (codec.parked.length === 0) return undefined;
  return codec.parked.splice(pick % codec.parked.length, 1)[0];
}

describe('random interleavings with batches compressed off the main thread', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keep every invariant, whenever compressions finish or fail', async () => {
    await assertInterleavings<CodecEvent>(events, {
      options: { compression: 'gzip' },
      beforeRun: () => {
        codec.holding = true;
        codec.parked.length = 0;
      },
      apply: (_run, e) => {
        if (e.kind === 'codec-holds') codec.holding = e.holding;
        else if (e.kind === 'compressed') {
          const c = take(e.pick);
          c?.resolve(gzipSync(c.data));
        } else take(e.pick)?.reject(new Error(FAILURE));
      },
      // A real compression ends: everything held finishes now, the close already under way.
      afterClose: () => {
        codec.holding = false;
        for (let c = take(0); c; c = take(0)) c.resolve(gzipSync(c.data));
      },
      unsent: new RegExp(FAILURE),
    });
  }, 120_000);
});
