import { describe, expect, it } from 'vitest';
import { decode } from '../../src/decode/index.js';
import { formatNodes, toJson } from '../../src/decode/format.js';
import type { TraceNode } from '../../src/protocol/codec.js';
import { Produce } from '../../src/protocol/apis/index.js';
import { compress, decompress, CODEC_ID } from '../../src/protocol/compression/index.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { compressBatch, encodeRecordBatch } from '../../src/protocol/records/index.js';
import { produceResponseFrame } from '../helpers/fake-server.js';
import { ProtocolError } from '../../src/errors.js';

const find = (nodes: readonly TraceNode[], path: string[]): TraceNode => {
  let list = nodes;
  let node: TraceNode | undefined;
  for (const part of path) {
    node = list.find((n) => n.field === part || n.field.startsWith(`${part} `));
    if (!node) throw new Error(`no ${part} in ${list.map((n) => n.field).join(', ')}`);
    list = node.children ?? [];
  }
  return node!;
};

const records = [
  { key: 'k1', value: 'hello', headers: [{ key: 'h', value: 'v' }], timestamp: 1_700_000_000_000 },
  { key: null, value: null, timestamp: 1_700_000_000_005 },
];

function produceRequest(version: number, batch: Buffer): Buffer {
  return encodeRequest(Produce, version, 5, 'cli', { acks: -1, timeoutMs: 30_000, topicData: [{ name: 't', topicId: 'Wb2tCz3TRnS0IJ6Ix9JcbQ', partitionData: [{ index: 0, records: batch }] }] });
}

describe('decode', () => {
  it('annotates a Produce request down to each record, with offsets into the input', async () => {
    const bytes = produceRequest(11, encodeRecordBatch(records));
    const out = await decode(bytes);
    expect(out.title).toBe('ProduceRequest v11');
    expect(out.trailing).toBe(0);
    expect(find(out.nodes, ['message_size']).value).toBe(bytes.length - 4);
    expect(find(out.nodes, ['header', 'client_id']).value).toBe('cli');
    const batch = find(out.nodes, ['body', 'topicData', '[0]', 'partitionData', '[0]', 'records', 'batch [0]']);
    expect(bytes.readBigInt64BE(batch.offset)).toBe(0n); // base_offset starts where the node says
    expect(batch.length).toBe(bytes.length - batch.offset - 3); // then three tagged-field sections
    expect(String(find(batch.children!, ['crc']).value)).toMatch(/\(valid\)/);
    const value = find(batch.children!, ['record [0]', 'value']);
    expect(bytes.subarray(value.offset, value.offset + value.length).toString()).toBe('hello');
    expect(find(batch.children!, ['record [1]', 'key_length']).value).toBe(-1);
  });

  it('shows a bad CRC instead of failing', async () => {
    const batch = Buffer.from(encodeRecordBatch(records));
    batch[batch.length - 1]! ^= 0xff;
    const out = await decode(batch, { as: 'batch' });
    expect(String(find(out.nodes, ['batch [0]', 'crc']).value)).toMatch(/INVALID: computed 0x/);
  });

  it('shows batch and record timestamps with their dates, and a timestamp no date can hold as it is', async () => {
    const batch = Buffer.from(encodeRecordBatch(records));
    const out = await decode(batch, { as: 'batch' });
    expect(find(out.nodes, ['batch [0]', 'base_timestamp']).value).toBe('1700000000000 (2023-11-14T22:13:20.000Z)');
    expect(find(out.nodes, ['batch [0]', 'max_timestamp']).value).toBe('1700000000005 (2023-11-14T22:13:20.005Z)');
    expect(find(out.nodes, ['batch [0]', 'record [1]', 'timestamp_delta']).value).toBe('5 (2023-11-14T22:13:20.005Z)');
    // A damaged base_timestamp (bytes 27-34): shown, with the bad CRC, instead of failing.
    batch.writeBigInt64BE(0x7fff_ffff_ffff_0000n, 27);
    const damaged = await decode(batch, { as: 'batch' });
    expect(find(damaged.nodes, ['batch [0]', 'base_timestamp']).value).toBe('9223372036854710272');
    expect(find(damaged.nodes, ['batch [0]', 'record [0]', 'timestamp_delta']).value).toBe('0 (no date)');
    expect(String(find(damaged.nodes, ['batch [0]', 'crc']).value)).toMatch(/INVALID/);
  });

  it('decompresses compressed batches and annotates their records', async () => {
    const batch = await compressBatch(encodeRecordBatch(records), CODEC_ID.gzip, compress);
    const out = await decode(produceRequest(3, batch), { decompress });
    expect(out.title).toBe('ProduceRequest v3');
    const b = find(out.nodes, ['body', 'topicData', '[0]', 'partitionData', '[0]', 'records', 'batch [0]']);
    expect(String(find(b.children!, ['attributes']).value)).toBe('1 (gzip, CreateTime)');
    const section = b.children!.find((c) => c.field.startsWith('records (gzip'))!;
    expect(section.children!.filter((c) => c.field.startsWith('record ['))).toHaveLength(2);
  });

  it('annotates a Produce response at the version given, error codes named', async () => {
    const body = {
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 6, baseOffset: -1n, currentLeader: { leaderId: 2, leaderEpoch: 7 } }] }],
      throttleTimeMs: 25,
      nodeEndpoints: [{ nodeId: 2, host: 'b2', port: 9093, rack: null }],
    };
    const out = await decode(produceResponseFrame(10, 99, body), { as: 'response', apiKey: 0, version: 10 });
    expect(out.title).toBe('ProduceResponse v10');
    const text = formatNodes(out.nodes);
    expect(text).toMatch(/error_code\s+int16\s+6 \(NOT_LEADER_OR_FOLLOWER\)/);
    expect(text).toMatch(/current_leader \(tag 0\)/);
    expect(text).toMatch(/throttle_time_ms\s+int32\s+25/);
    expect(JSON.parse(toJson(out)).title).toBe('ProduceResponse v10');
  });

  it('says a response may have been taken for a request when the guess fails', async () => {
    const body = { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n }] }], throttleTimeMs: 0 };
    // Correlation id 3 reads as API key 0 (Produce), version 3: a request, as far as the first bytes tell.
    const bytes = produceResponseFrame(9, 3, body);
    const err = await decode(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/read as a request, guessed .*say --as response --api NAME --version N/);
    expect((await decode(bytes, { as: 'response', apiKey: 0, version: 9 })).title).toBe('ProduceResponse v9');
    // Said to be a request, it gets no such hint.
    await expect(decode(bytes, { as: 'request' })).rejects.not.toThrow(/guessed/);
  });

  it('says what it needs when it cannot tell what the bytes are', async () => {
    await expect(decode(Buffer.from('0000', 'hex'))).rejects.toBeInstanceOf(ProtocolError);
    await expect(decode(Buffer.from('00000001', 'hex'), { as: 'response' })).rejects.toThrow(/needs the version/);
  });

  it('marks a cut-off last batch as partial, as Fetch may return it', async () => {
    const two = Buffer.concat([encodeRecordBatch(records), encodeRecordBatch(records)]);
    const out = await decode(two.subarray(0, two.length - 10), { as: 'batch' });
    expect(out.nodes.map((n) => n.field.split(' (')[0])).toEqual(['batch [0]', 'partial batch']);
  });

  it('says a batch_length no batch can have is wrong, instead of failing (or reading it as a size)', async () => {
    for (const length of [-1, 0x80000000 | 0, 12]) {
      const bad = encodeRecordBatch(records);
      bad.writeInt32BE(length, 8);
      const out = await decode(bad, { as: 'batch' });
      expect(out.nodes).toHaveLength(1);
      expect(out.nodes[0]!.field).toMatch(new RegExp(`^error: batch_length ${length} is impossible`));
    }
    const cut = encodeRecordBatch(records).subarray(0, 30);
    expect((await decode(cut, { as: 'batch' })).nodes[0]!.field).toMatch(/^partial batch \(its batch_length says \d+ bytes, 30 are here/);
  });

  it('says when records_count and the records disagree', async () => {
    const more = encodeRecordBatch(records);
    more.writeInt32BE(5, 57);
    const fewer = encodeRecordBatch(records);
    fewer.writeInt32BE(1, 57);
    // The CRC does not cover what is said here; only the count is wrong.
    expect(find((await decode(more, { as: 'batch' })).nodes, ['batch [0]']).children!.at(-1)!.field).toBe('error: records_count says 5, the bytes hold 2');
    expect(find((await decode(fewer, { as: 'batch' })).nodes, ['batch [0]']).children!.at(-1)!.field).toMatch(/^error: \d+ bytes after the last of records_count's 1 records$/);
  });

  it('reads a request whose size prefix does not match: cut off, or with bytes after it', async () => {
    const bytes = produceRequest(13, encodeRecordBatch(records));
    await expect(decode(bytes.subarray(0, 100))).rejects.toThrow(`the request is cut off: its size prefix says ${bytes.length - 4} bytes, 96 follow it`);
    await expect(decode(bytes.subarray(0, 100), { as: 'request' })).rejects.toThrow(/cut off/);
    const longer = await decode(Buffer.concat([bytes, Buffer.from('abcdef', 'hex')]));
    expect(longer.title).toBe('ProduceRequest v13');
    expect(longer.trailing).toBe(3);
    expect(find(longer.nodes, ['message_size']).value).toBe(bytes.length - 4);
    await expect(decode(Buffer.alloc(0))).rejects.toThrow('there are no bytes to decode');
  });

  it('formats as many rows as a log segment gives (more than a call takes as arguments)', () => {
    const nodes: TraceNode[] = Array.from({ length: 300_000 }, (_, i) => ({ field: `record [${i}]`, offset: i * 10, length: 10, type: 'int32', value: i }));
    const text = formatNodes(nodes);
    expect(text.split('\n')).toHaveLength(300_002);
    expect(text).toMatch(/\n2999990\s+10\s+record \[299999\]\s+int32\s+299999\n$/);
  });
});
