import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../../src/producer/due-queue.js';

interface Item {
  id: number;
  dueAt: number;
}

const items = (n: number): Item[] => Array.from({ length: n }, (_, id) => ({ id, dueAt: Infinity }));

describe('DueQueue', () => {
  it('hands out what is due, earliest first, each once, and keeps the rest', () => {
    const q = new DueQueue<Item>();
    const [a, b, c] = items(3);
    q.add(30, a!);
    q.add(10, b!);
    q.add(20, c!);
    expect(q.next).toBe(10);
    const seen: number[] = [];
    q.takeDue(20, (i) => seen.push(i.id));
    expect(seen).toEqual([1, 2]);
    expect(q.next).toBe(30);
    expect([a!.dueAt, b!.dueAt, c!.dueAt]).toEqual([30, Infinity, Infinity]);
  });

  it('keeps only the earliest time of an item; a later one is for the visit at the earlier time to add again', () => {
    const q = new DueQueue<Item>();
    const [a] = items(1);
    q.add(20, a!);
    q.add(25, a!);
    expect(q.size).toBe(1);
    q.add(5, a!);
    const seen: number[] = [];
    q.takeDue(100, (i) => seen.push(i.id));
    // The entry for 20 is stale once the item was looked at for 5.
    expect(seen).toEqual([0]);
    expect(q.size).toBe(0);
  });

  it('ignores times that are not finite', () => {
    const q = new DueQueue<Item>();
    q.add(Infinity, items(1)[0]!);
    expect(q.size).toBe(0);
    expect(q.next).toBe(Infinity);
  });

  it('every item added is handed out exactly once, at the earliest time it was added for, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(9), fc.nat(1000)), { maxLength: 200 }), fc.array(fc.nat(1000), { maxLength: 20 }), (adds, checkpoints) => {
        const q = new DueQueue<Item>();
        const pool = items(10);
        const earliest = new Map<number, number>();
        for (const [id, at] of adds) {
          q.add(at, pool[id]!);
          earliest.set(id, Math.min(earliest.get(id) ?? Infinity, at));
        }
        const handed: Array<[number, number]> = [];
        const times = [...checkpoints].sort((x, y) => x - y).concat(1000);
        for (const now of times) q.takeDue(now, (i) => handed.push([i.id, now]));
        expect(handed.map(([id]) => id).sort((x, y) => x - y)).toEqual([...earliest.keys()].sort((x, y) => x - y));
        // Each at the first look at or after its time.
        for (const [id, now] of handed) expect(now).toBe(times.find((t) => t >= earliest.get(id)!));
        expect(q.size).toBe(0);
      }),
    );
  });
});
