import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidRecordError } from '../../../src/errors.js';
import { validateRecord } from '../../../src/producer/validate.js';
import { resolveOptions } from '../../../src/producer/options.js';
import { shown } from '../../../src/shown.js';

describe('config errors show the value that was given', () => {
  it.each([
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-0, '-0'],
    [2.5, '2.5'],
    [10n, '10n'],
    [undefined, 'undefined'],
    ['5', '"5"'],
    [null, 'null'],
    [{ a: 1 }, '{"a":1}'],
  ])('shown(%s) is %s', (value, text) => {
    expect(shown(value)).toBe(text);
  });

  it('shows what cannot be written as JSON without failing', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(shown(circular)).toBe('[object Object]');
    expect(shown(Symbol('s'))).toBe('Symbol(s)');
  });

  it.each([
    [{ lingerMs: NaN }, /lingerMs must be an integer from 0 to \d+, got NaN$/],
    [{ lingerMs: 10n as never }, /lingerMs must be an integer .*, got 10n$/],
    [{ batchSize: 1.5 }, /batchSize must be an integer .*, got 1\.5$/],
    [{ compression: 'LZ4' as never }, /compression must be one of .*, got "LZ4"$/],
    [{ acks: NaN as never }, /acks must be 0, 1, -1 or 'all', got NaN$/],
    [{ bufferMemory: 2 ** 52 }, /waitingMemory must be an integer of at least 1024 bytes, got 18014398509481984 \(4 × bufferMemory, its default\)$/],
  ])('%o', (opts, message) => {
    let error: unknown;
    try {
      resolveOptions({ bootstrap: '127.0.0.1:9092', ...opts });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([[9092], [true], [null], [{ host: 'h', port: 1 }], [[9092]]])('bootstrap %o is a ConfigError, not a TypeError from inside', (bootstrap) => {
    expect(() => resolveOptions({ bootstrap: bootstrap as never })).toThrow(ConfigError);
    expect(() => resolveOptions({ bootstrap: bootstrap as never })).toThrow(/^bootstrap must be "host:port" \(several separated by commas\) or an array of such strings, got /);
  });

  it('a maxBatchSize given below batchSize is a ConfigError; left out, it is at least batchSize', () => {
    expect(() => resolveOptions({ bootstrap: 'h:1', maxBatchSize: 10 })).toThrow(ConfigError);
    expect(() => resolveOptions({ bootstrap: 'h:1', maxBatchSize: 10 })).toThrow(/^maxBatchSize \(10\) is below batchSize \(16384\)/);
    expect(resolveOptions({ bootstrap: 'h:1', maxBatchSize: 16384 }).maxBatchSize).toBe(16384);
    const big = resolveOptions({ bootstrap: 'h:1', batchSize: 2 * 1024 * 1024, maxRequestSize: 4 * 1024 * 1024 });
    expect(big.maxBatchSize).toBe(2 * 1024 * 1024);
  });

  it.each([
    ['lingerMS', 'lingerMs'],
    ['compresion', 'compression'],
    ['bootstrapServers', undefined],
    ['maxInflight', 'maxInFlight'],
    ['idempotence', 'idempotent'],
  ])('unknown option %s names the one it most likely meant (%s)', (key, meant) => {
    const attempt = (): unknown => resolveOptions({ bootstrap: 'h:1', [key]: 1 } as never);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(meant ? `unknown producer option "${key}" (did you mean ${meant}?)` : new RegExp(`^unknown producer option "${key}"$`));
  });

  it('a record field of the wrong type says its type, where its value alone would look right', () => {
    expect(() => validateRecord({ topic: 't', value: 'v', partition: '0' as never })).toThrow(new InvalidRecordError('record partition must be a non-negative integer, got "0" (a string)'));
    expect(() => validateRecord({ topic: 't', value: 'v', timestamp: new Date(0) as never })).toThrow(/got .* \(an object\)$/);
    expect(() => validateRecord({ topic: 't', value: 'v', timestamp: 1700000000000n as never })).toThrow(
      new InvalidRecordError('record timestamp must be a non-negative integer of milliseconds, got 1700000000000n (a bigint)'),
    );
    expect(() => validateRecord({ topic: 't', value: 'v', partition: -1 })).toThrow(new InvalidRecordError('record partition must be a non-negative integer, got -1'));
  });

  // Plain JavaScript has no type to catch these: each would have been dropped without a word.
  it.each([
    [{ topic: 't', value: 'v', partiton: 3 }, 'unknown record field "partiton" (did you mean partition?): a record has topic, key, value, headers, partition, timestamp'],
    [{ topic: 't', value: 'v', header: { a: 'b' } }, 'unknown record field "header" (did you mean headers?)'],
    [{ topic: 't', vaule: 'v', value: 'v' }, 'unknown record field "vaule" (did you mean value?)'],
    [{ topic: 't', value: 'v', Key: 'k' }, 'unknown record field "Key" (did you mean key?)'],
    [{ topic: 't', value: 'v', offset: 3 }, /^unknown record field "offset": a record has /],
    [{ topic: 't', value: 'v', headers: new Map([['a', 'b']]) }, 'record headers must be an array of { key, value } or a plain object, got a Map (Object.fromEntries(map) makes the object form)'],
    [{ topic: 't', value: 'v', headers: [['a', 'b']] }, 'record headers must be { key: string, value } entries, not [key, value] pairs (got ["a","b"])'],
    [[{ topic: 't', value: 'v' }], 'a record must be an object with topic and value, got an array (sendBatch() takes an array of records)'],
    [[], 'a record must be an object with topic and value, got an array (sendBatch() takes an array of records)'],
  ])('refuses %j by name', (record, message) => {
    const attempt = (): void => validateRecord(record as never);
    expect(attempt).toThrow(InvalidRecordError);
    expect(attempt).toThrow(message);
  });

  it('takes every field a record has, set or undefined, and headers in both forms or with a null prototype', () => {
    const headers = Object.assign(Object.create(null) as Record<string, string>, { a: 'b' });
    for (const record of [
      { topic: 't', key: 'k', value: 'v', headers: { a: 'b' }, partition: 0, timestamp: 1 },
      { topic: 't', key: undefined, value: null, headers: undefined, partition: undefined, timestamp: undefined },
      { topic: 't', value: 'v', headers: [{ key: 'a', value: null }] },
      { topic: 't', value: 'v', headers },
    ]) {
      expect(() => validateRecord(record)).not.toThrow();
    }
  });
});
