/**
 * A value as an error message shows what was given: JSON for strings and plain data, but
 * NaN, Infinity, -0 and bigints as written in code (JSON.stringify makes the first two
 * "null" and throws on a bigint), and undefined, functions and symbols by name.
 */
export function shown(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return `a function`;
    case 'symbol':
      return String(value);
    default:
      try {
        return JSON.stringify(value) ?? String(value);
      } catch {
        return String(value);
      }
  }
}
