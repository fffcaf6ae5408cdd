/**
 * A fixed piece of CPU work, timed, so that a result says how fast the host was when it ran.
 * On a shared machine the host's speed changes under a benchmark: on 2026-12-01 every client
 * did twice the records/s at half the CPU per record from one hour to the next (bench/README.md,
 * seventeenth round), and only the ratios between clients of one round stayed comparable.
 * Timed before every round and after the last, the probe shows such a change in the results.
 */

/** Words of memory the probe walks: 8 MiB, past the caches of small cores, as records are. */
const WORDS = 2 * 1024 * 1024;
const PASSES = 4;
const REPEATS = 5;

let memory: Uint32Array | undefined;

/** One timing of the work, in milliseconds. */
function once(): number {
  memory ??= new Uint32Array(WORDS).map((_, i) => Math.imul(i, 0x9e3779b1));
  const started = performance.now();
  let h = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    // A stride through memory and a multiply per word: both the CPU and its memory count.
    for (let i = 0; i < WORDS; i++) h = Math.imul(h ^ memory[(i * 97) & (WORDS - 1)]!, 0x5bd1e995) >>> 0;
  }
  const ms = performance.now() - started;
  // Used, so that the work cannot be skipped.
  if (h === 0.5) throw new Error('unreachable');
  return ms;
}

/** The median of a few timings of the probe's work, in ms (larger: a slower host). */
export function hostProbeMs(): number {
  // The first timing includes compiling the loop.
  once();
  const times = Array.from({ length: REPEATS }, once).sort((a, b) => a - b);
  return Math.round(times[REPEATS >> 1]! * 10) / 10;
}
