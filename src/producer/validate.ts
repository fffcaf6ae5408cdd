/**
 * Checks a record's shape at send(), so a wrong type fails that send alone, at once,
 * with a message naming the field, instead of corrupting a batch shared with others.
 */
import { InvalidRecordError, InvalidTopicError } from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { shown } from '../shown.js';
import { nearestName } from './nearest-name.js';
import type { ProducerRecord } from './types.js';

/** A wrong value as given, with its type when that is what is wrong: `"0"` alone would read as fine. */
function given(v: unknown): string {
  if (typeof v === 'number' || v === null) return shown(v);
  const type = typeof v;
  return `${shown(v)} (${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type})`;
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

/** The longest topic name Kafka accepts. */
export const MAX_TOPIC_NAME = 249;

/** Kafka's rule for topic names (Topic.validate): what no broker would ever accept. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * What is wrong with `name` as a topic name by Kafka's rule (with `maxLength`, as the
 * start of one that longer names are made of), or undefined.
 */
export function topicNameProblem(name: string, maxLength = MAX_TOPIC_NAME): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return 'cannot be "." or ".."';
  if (name.length > maxLength) return `is ${name.length} characters long, over ${maxLength}`;
  if (!LEGAL_TOPIC.test(name)) return 'may hold only ASCII letters, digits, ".", "_" and "-"';
  return undefined;
}

/** Names already checked: a producer writes to few topics, and the check is on every send. */
const checkedTopics = new Set<string>();

/** The last name checked: most sends go to the topic the send before went to. */
let lastChecked = '';

function checkTopicName(topic: string): void {
  if (topic === lastChecked || checkedTopics.has(topic)) return;
  const problem = topicNameProblem(topic);
  if (problem) throw new InvalidTopicError(topic, ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name ${JSON.stringify(topic)} can never be valid: it ${problem}`);
  if (checkedTopics.size >= 10_000) checkedTopics.clear();
  checkedTopics.add(topic);
  lastChecked = topic;
}

/** A record's fields: any other is a mistake (`partiton`, `header`) that would otherwise be dropped without a word. */
const RECORD_FIELDS = ['topic', 'key', 'value', 'headers', 'partition', 'timestamp'] as const;

/**
 * Refuses a field a record does not have. Its cost is that of a for-in over the record
 * (V8 keeps the names of an object literal's shape, so it is a few compares), not a
 * lookup per field.
 */
function checkFields(record: object): void {
  for (const field in record) {
    if (field !== 'topic' && field !== 'value' && field !== 'key' && field !== 'headers' && field !== 'partition' && field !== 'timestamp') {
      throw Array.isArray(record) ? arrayGiven() : unknownField(field);
    }
  }
}

/** An array where a record belongs: asked only once a record failed (an empty array has no field, and no topic). */
function arrayGiven(): InvalidRecordError {
  return new InvalidRecordError('a record must be an object with topic and value, got an array (sendBatch() takes an array of records)');
}

function unknownField(field: string): InvalidRecordError {
  const near = nearestName(field, RECORD_FIELDS);
  return new InvalidRecordError(
    `unknown record field ${JSON.stringify(field)}${near ? ` (did you mean ${near}?)` : ''}: a record has ${RECORD_FIELDS.join(', ')}`,
  );
}

export function validateRecord(record: ProducerRecord): void {
  if (typeof record !== 'object' || record === null) throw new InvalidRecordError('a record must be an object with topic and value');
  checkFields(record);
  if (typeof record.topic !== 'string') {
    throw Array.isArray(record) ? arrayGiven() : new InvalidRecordError(`record topic must be a string, got ${typeof record.topic}`);
  }
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
        const pair = Array.isArray(header) ? `, not [key, value] pairs (got ${shown(header)})` : '';
        throw new InvalidRecordError(`record headers must be { key: string, value } entries${pair}`);
      }
      checkHeaderValue(header.value, header.key);
    }
  } else if (typeof h === 'object' && h !== null && isPlainObject(h)) {
    const o = h as Readonly<Record<string, unknown>>;
    for (const key in o) if (Object.hasOwn(o, key)) checkHeaderValue(o[key], key);
  } else {
    // A Map (or any object with a prototype of its own) would read as no headers at all.
    const what = h instanceof Map ? 'a Map (Object.fromEntries(map) makes the object form)' : given(h);
    throw new InvalidRecordError(`record headers must be an array of { key, value } or a plain object, got ${what}`);
  }
}

function isPlainObject(o: object): boolean {
  const proto = Object.getPrototypeOf(o) as unknown;
  return proto === Object.prototype || proto === null;
}
