/**
 * Checks a record's shape at send(), so a wrong type fails that send alone, at once,
 * with a message naming the field, instead of corrupting a batch shared with others.
 */
import { InvalidRecordError, InvalidTopicError } from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { shown } from '../shown.js';
import type { ProducerRecord } from './types.js';

/** A wrong value as given, with its type when that is what is wrong: `"0"` alone would read as fine. */
function given(v: unknown): string {
  return typeof v === 'number' ? shown(v) : `${shown(v)} (a ${typeof v})`;
}

const isBytes = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array;

function checkBytes(v: unknown, what: string): void {
  if (v !== null && !isBytes(v)) throw notBytes(v, what);
}

function notBytes(v: unknown, what: string): InvalidRecordError {
  return new InvalidRecordError(`${what} must be a string, Buffer, Uint8Array or null, got ${v === undefined ? 'undefined' : typeof v}`);
}

/** A header value's check: its message (the key quoted) is made only when it fails, not for every header of every record. */
function checkHeaderValue(v: unknown, key: string): void {
  if (v !== null && !isBytes(v)) throw notBytes(v, `header ${JSON.stringify(key)} value`);
}

/** Kafka's rule for topic names (Topic.validate): what no broker would ever accept. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
/** Names already checked: a producer writes to few topics, and the check is on every send. */
const checkedTopics = new Set<string>();

/** The last name checked: most sends go to the topic the send before went to. */
let lastChecked = '';

function checkTopicName(topic: string): void {
  if (topic === lastChecked || checkedTopics.has(topic)) return;
  if (!LEGAL_TOPIC.test(topic) || topic === '.' || topic === '..') {
    const why = topic.length === 0 ? 'it is empty' : topic.length > 249 ? `it has ${topic.length} characters, more than 249` : topic === '.' || topic === '..' ? `"${topic}" is reserved` : 'only ASCII letters, digits, ".", "_" and "-" are allowed';
    throw new InvalidTopicError(topic, ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name ${JSON.stringify(topic)} can never be valid: ${why}`);
  }
  if (checkedTopics.size >= 10_000) checkedTopics.clear();
  checkedTopics.add(topic);
  lastChecked = topic;
}

export function validateRecord(record: ProducerRecord): void {
  if (typeof record !== 'object' || record === null) throw new InvalidRecordError('a record must be an object with topic and value');
  if (typeof record.topic !== 'string') throw new InvalidRecordError(`record topic must be a string, got ${typeof record.topic}`);
  checkTopicName(record.topic);
  if (record.key !== undefined) checkBytes(record.key, 'record key');
  if (record.value === undefined) throw new InvalidRecordError('record value is required (use null for a tombstone)');
  checkBytes(record.value, 'record value');
  const p = record.partition;
  if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 0x7fffffff)) {
    throw new InvalidRecordError(`record partition must be a non-negative integer, got ${given(p)}`);
  }
  const t = record.timestamp;
  if (t !== undefined && (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0)) {
    throw new InvalidRecordError(`record timestamp must be a non-negative integer of milliseconds, got ${given(t)}`);
  }
  const h = record.headers;
  if (h === undefined) return;
  if (Array.isArray(h)) {
    for (const header of h as ReadonlyArray<{ key: unknown; value: unknown }>) {
      if (typeof header !== 'object' || header === null || typeof header.key !== 'string') {
        throw new InvalidRecordError('record headers must be { key: string, value } entries');
      }
      checkHeaderValue(header.value, header.key);
    }
  } else if (typeof h === 'object' && h !== null) {
    const o = h as Readonly<Record<string, unknown>>;
    for (const key in o) if (Object.hasOwn(o, key)) checkHeaderValue(o[key], key);
  } else {
    throw new InvalidRecordError('record headers must be an array of { key, value } or an object');
  }
}
