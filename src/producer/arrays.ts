/**
 * Empty arrays that start in the elements kind they will hold.
 *
 * `[]` starts as an array of small integers and changes its hidden class at its first
 * push of anything else (an object, a function, a timestamp, which is a double). V8's
 * optimized code for a push or a read checks that hidden class: code compiled before the
 * change is thrown away when it meets an array after it ("not a Smi", "wrong map"), and
 * the function is compiled again, with all it inlined: `tryAppend` three times in a fresh
 * process (~25 ms of compiler each on a slow machine), and the buffer pool's allocation
 * path once per buffer size, when that size was first given back (well into a run over
 * thousands of partitions). An array that holds its kind from the start never changes it.
 */

const AN_OBJECT = {};

/** An empty array of the kind that holds objects (functions, `undefined` too). */
export function objectArray<T>(): T[] {
  const array: unknown[] = [AN_OBJECT];
  array.pop();
  return array as T[];
}

/** An empty array of the kind that holds numbers as doubles (timestamps, Infinity). */
export function numberArray(): number[] {
  const array = [0.5];
  array.pop();
  return array;
}
