/**
 * Checks a record's shape at send(), so a wrong type fails that send alone, at once,
 * with a message naming the field, instead of corrupting a batch shared with others.
 */
import { InvalidRecordError } from '../errors.js';
import type { ProducerRecord } from './types.js';

const isBytes = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array;

function checkBytes(v: unknown, what: string): void {
  if (v !== null && !isBytes(v)) {
    throw new InvalidRecordError(`${what} must be a string, Buffer, Uint8Array or null, got ${v === undefined ? 'undefined' : typeof v}`);
  }
}

export function validateRecord(record: ProducerRecord): void {
  if (typeof record !== 'object' || record === null) throw new InvalidRecordError('a record must be an object with topic and value');
  if (typeof record.topic !== 'string' || record.topic.length === 0 || record.topic.length > 249) {
    throw new InvalidRecordError(`record topic must be a non-empty string of at most 249 characters, got ${JSON.stringify(record.topic)}`);
  }
  if (record.key !== undefined) checkBytes(record.key, 'record key');
  if (record.value === undefined) throw new InvalidRecordError('record value is required (use null for a tombstone)');
  checkBytes(record.value, 'record value');
  const p = record.partition;
  if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 0x7fffffff)) {
    throw new InvalidRecordError(`record partition must be a non-negative integer, got ${String(p)}`);
  }
  const t = record.timestamp;
  if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0)) {
    throw new InvalidRecordError(`record timestamp must be a non-negative integer of milliseconds, got ${String(t)}`);
  }
  const h = record.headers;
  if (h === undefined) return;
  if (Array.isArray(h)) {
    for (const header of h as ReadonlyArray<{ key: unknown; value: unknown }>) {
      if (typeof header !== 'object' || header === null || typeof header.key !== 'string') {
        throw new InvalidRecordError('record headers must be { key: string, value } entries');
      }
      checkBytes(header.value, `header ${JSON.stringify(header.key)} value`);
    }
  } else if (typeof h === 'object' && h !== null) {
    for (const [k, v] of Object.entries(h)) checkBytes(v, `header ${JSON.stringify(k)} value`);
  } else {
    throw new InvalidRecordError('record headers must be an array of { key, value } or an object');
  }
}
