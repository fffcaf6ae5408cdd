/** How the proxy's one-line summaries write partition numbers: runs of three or more as ranges. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionRanges } from '../../src/proxy/format.js';

describe('partitionRanges', () => {
  it.each([
    [[], ''],
    [[3], '3'],
    [[1, 0], '0,1'],
    [[0, 1, 2], '0-2'],
    [Array.from({ length: 153 }, (_, i) => 152 - i), '0-152'],
    [[0, 2, 5, 6, 7, 8, 9, 11, 12], '0,2,5-9,11,12'],
  ])('%o -> %s', (partitions, text) => {
    expect(partitionRanges(partitions)).toBe(text);
  });

  it('names every partition given, and no other', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(300), { maxLength: 200 }), (partitions) => {
        const named = partitionRanges(partitions)
          .split(',')
          .filter(Boolean)
          .flatMap((part) => {
            const [from, to] = part.split('-').map(Number);
            return Array.from({ length: (to ?? from!) - from! + 1 }, (_, i) => from! + i);
          });
        expect(named).toEqual([...partitions].sort((a, b) => a - b));
      }),
    );
  });
});
