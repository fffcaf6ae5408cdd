import type { RandomInt } from '../../../src/producer/partitioners/index.js';

/**
 * A reproducible RandomInt for tests: Marsaglia's xorshift32, shifted down to the 31 bits the
 * partitioner expects. Statistical tests use it so a failure replays identically.
 */
export function seededRandom(seed: number): RandomInt {
  let state = seed | 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 1;
  };
}
