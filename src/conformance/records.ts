/**
 * Records that exercise every field a producer writes (keys and values null or not, empty,
 * binary, unicode; headers with null and empty values; timestamps before and after the
 * batch's first), and a comparable form of them, for checking what a broker hands back.
 */
import type { DecodedRecord, RecordInput } from '../protocol/records/index.js';

export function sampleRecords(tag: string, base: number): RecordInput[] {
  return [
    { key: `k-${tag}`, value: `value ${tag} ünïcødé ✓`, headers: [{ key: 'h1', value: tag }, { key: 'h-null', value: null }], timestamp: base },
    { key: null, value: Buffer.alloc(700, tag.length), timestamp: base + 1 },
    { key: Buffer.from([0, 1, 2, 255]), value: null, headers: { 'only-key': '' }, timestamp: base - 5 },
    { key: '', value: '', timestamp: base + 3_600_000 - 60_000 },
  ];
}

export interface ComparableRecord {
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  timestamp: number | undefined;
}

/** Keys, values and header values as hex, headers as pairs: sent and fetched records compare equal. */
export function comparable(r: RecordInput | DecodedRecord): ComparableRecord {
  const bytes = (v: unknown): string | null => (v === null || v === undefined ? null : Buffer.from(v as string | Uint8Array).toString('hex'));
  const headers = Array.isArray(r.headers)
    ? r.headers.map((h: { key: string; value: unknown }) => [h.key, bytes(h.value)] as [string, string | null])
    : Object.entries(r.headers ?? {}).map(([k, v]) => [k, bytes(v)] as [string, string | null]);
  return { key: bytes(r.key), value: bytes(r.value), headers, timestamp: r.timestamp };
}
