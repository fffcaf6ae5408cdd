/**
 * `bytes` copied into `target` at `offset`, through the builtin itself rather than
 * `target.set(...)`: Node 20's optimizing compiler does not resolve `set` (found on
 * %TypedArray%.prototype, past Buffer's and Uint8Array's prototypes) at compile time, so
 * every `buf.set(...)` in optimized code was a generic property lookup first
 * (`Builtins_LoadIC`: 2-4% of the main thread in profiles of the small and lz4 benchmarks,
 * 17-20 against 26 ns a copy in a loop; bench/README.md, eighteenth round).
 */
const typedArraySet = Uint8Array.prototype.set;

export function copyBytes(target: Uint8Array, bytes: Uint8Array, offset: number): void {
  typedArraySet.call(target, bytes, offset);
}
