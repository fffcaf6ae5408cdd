/**
 * Prints annotated bytes as a table a person can read beside the Kafka protocol docs:
 * offset, length, field (the spec's snake_case names, indented by nesting), wire type
 * and value. Error codes get their names; byte strings a short hex preview.
 */
import type { TraceNode } from '../protocol/codec.js';
import { errorCodeInfo } from '../protocol/error-codes.js';

const HEX_PREVIEW = 24;

export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export function formatValue(field: string, type: string, value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const text = isPrintable(b) ? ` "${b.toString('utf8')}"` : '';
    const hex = b.subarray(0, HEX_PREVIEW).toString('hex');
    return `${b.length} bytes ${hex}${b.length > HEX_PREVIEW ? '…' : ''}${text.length < 60 ? text : ''}`;
  }
  // Strings of string types are quoted; others are annotations (`0x4ddbb054 (valid)`).
  if (typeof value === 'string') return /string|utf8/.test(type) ? JSON.stringify(value) : value;
  if (typeof value === 'number' && /error_?code$/i.test(field)) return `${value} (${errorCodeInfo(value).name})`;
  return String(value);
}

function isPrintable(b: Buffer): boolean {
  if (b.length === 0 || b.length > 200) return false;
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

/** One line per node, depth-first, children indented under their parent. */
export function formatNodes(nodes: readonly TraceNode[], base = 0): string {
  const rows: string[][] = [['offset', 'length', 'field', 'type', 'value']];
  const walk = (list: readonly TraceNode[], depth: number): void => {
    for (const n of list) {
      const space = n.field.indexOf(' ');
      const head = space < 0 ? n.field : n.field.slice(0, space);
      const name = snakeCase(head) + (space < 0 ? '' : n.field.slice(space));
      rows.push([String(base + n.offset), String(n.length), `${'  '.repeat(depth)}${name}`, n.type, n.children ? '' : formatValue(n.field, n.type, n.value)]);
      if (n.children) walk(n.children, depth + 1);
    }
  };
  walk(nodes, 0);
  // A loop, not Math.max(...lengths): a log segment gives hundreds of thousands of rows,
  // more arguments than a call can take.
  const widths = [0, 0, 0, 0];
  for (const r of rows) for (let i = 0; i < 4; i++) widths[i] = Math.max(widths[i]!, Math.min(48, r[i]!.length));
  return rows.map((r) => r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd()).join('\n') + '\n';
}

/** JSON for machines: bigints as strings, bytes as hex. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('hex');
      }
      return v;
    },
    2,
  );
}
