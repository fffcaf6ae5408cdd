import { objectArray } from './arrays.js';

/**
 * A first-in first-out queue with O(1) push and shift. `Array.prototype.shift` copies the
 * whole array: with hundreds of thousands of waiting sends that made releasing them
 * quadratic.
 */
export class Fifo<T> {
  #items: Array<T | undefined> = objectArray();
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Compact once the dead prefix is half the array: amortised O(1), bounded memory.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Empties the queue, returning what it held, oldest first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = objectArray();
    this.#head = 0;
    return items;
  }

  /** What it holds now, oldest first (shifting while iterating would skip items: copy first). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
