/**
 * The partitions the sender must look at again at a given time: when a batch will have
 * lingered, a retry's backoff ends, a throttle lifts, or an unsent batch reaches its
 * delivery timeout. A binary min-heap on that time, so a run visits the partitions that
 * are due and never the thousands that are only waiting (a walk over every partition
 * with batches cost a third of the sender's thread at 10,000 partitions).
 *
 * A partition is in the heap at most once per time it is due: `dueAt` on its state is
 * the earliest time queued for it, and a later one is not queued while an earlier one
 * is (the look at the earlier time queues the later one again if it still holds).
 */

import { numberArray, objectArray } from './arrays.js';

/** What the queue keeps of a partition: the earliest time it is queued for. */
export interface Due {
  dueAt: number;
}

export class DueQueue<T extends Due> {
  #times: number[] = numberArray();
  #items: T[] = objectArray();

  get size(): number {
    return this.#times.length;
  }

  /** The earliest time queued, or Infinity. */
  get next(): number {
    return this.#times.length > 0 ? this.#times[0]! : Infinity;
  }

  /** Queues `item` to be looked at `at`, unless it is queued for that time or earlier already. */
  add(at: number, item: T): void {
    if (!(at < item.dueAt) || !Number.isFinite(at)) return;
    item.dueAt = at;
    const times = this.#times;
    const items = this.#items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  /** Takes out every item due at or before `now` and passes it to `visit` (each once; stale entries are skipped). */
  takeDue(now: number, visit: (item: T) => void): void {
    while (this.#times.length > 0 && this.#times[0]! <= now) {
      const at = this.#times[0]!;
      const item = this.#pop();
      // An entry for a time the item no longer waits for: it was looked at since.
      if (item.dueAt !== at) continue;
      item.dueAt = Infinity;
      visit(item);
    }
  }

  #pop(): T {
    const times = this.#times;
    const items = this.#items;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && times[right]! < times[left]! ? right : left;
      if (times[child]! >= lastTime) break;
      times[i] = times[child]!;
      items[i] = items[child]!;
      i = child;
    }
    times[i] = lastTime;
    items[i] = lastItem;
    return top;
  }
}
