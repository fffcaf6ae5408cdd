/** How a check says "wrong": a failure carrying a readable diff. */
import { isDeepStrictEqual } from 'node:util';
import type { Json } from './types.js';

export class CheckFailure extends Error {
  readonly diff: string[];
  constructor(message: string, diff: string[] = []) {
    super(message);
    this.name = 'CheckFailure';
    this.diff = diff;
  }
}

/** The check cannot run here because the broker does not offer what it needs. */
export class NotOffered extends Error {
  override readonly name = 'NotOffered';
}

const MAX_DIFF_LINES = 12;

/** `- path: expected` / `+ path: actual` for each leaf that differs, at most a dozen. */
export function diffJson(expected: unknown, actual: unknown, path = ''): string[] {
  const lines: string[] = [];
  const walk = (e: unknown, a: unknown, at: string): void => {
    if (lines.length >= MAX_DIFF_LINES || isDeepStrictEqual(e, a)) return;
    if (isObject(e) && isObject(a) && Array.isArray(e) === Array.isArray(a)) {
      const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])];
      for (const k of keys) walk(e[k], a[k], Array.isArray(e) ? `${at}[${k}]` : at ? `${at} ${k}` : k);
      return;
    }
    lines.push(`- ${at || '(value)'}: ${show(e)}`, `+ ${at || '(value)'}: ${show(a)}`);
  };
  walk(expected, actual, path);
  if (lines.length >= MAX_DIFF_LINES) lines.push('  (more differences not shown)');
  return lines;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  const text = JSON.stringify(toJson(v));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Bigints as strings, Buffers as hex: values a report can hold. */
export function toJson(v: unknown): Json {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(toJson);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, toJson(x)]));
  return v as Json;
}

/** Throws a CheckFailure when `actual` is not `expected`. */
export function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(toJson(actual), toJson(expected))) throw new CheckFailure(`${what}: not as expected`, diffJson(toJson(expected), toJson(actual), what));
}
