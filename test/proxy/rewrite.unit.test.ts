/**
 * Address rewriting on constructed answers, at every version of every API that carries
 * broker addresses: the rewritten frame must be byte for byte what encoding the same
 * answer with the new addresses gives, so nothing but host, port and the sizes around
 * them changed.
 */
import { describe, expect, it } from 'vitest';
import { annotateResponse } from '../../src/decode/annotate-frame.js';
import type { AnyApi } from '../../src/protocol/api.js';
import type { Codec } from '../../src/protocol/codec.js';
import { responseHeaderVersion } from '../../src/protocol/frame.js';
import { apiDefinition } from '../../src/protocol/registry.js';
import { inVersions, parseVersions, type FieldSpec } from '../../src/protocol/schema.js';
import { Writer } from '../../src/protocol/writer.js';
import { carriesAddresses, findAddresses, rewriteAddresses } from '../../src/proxy/rewrite.js';

type Obj = Record<string, unknown>;

/** The fields of `obj` that exist at version `v`, recursively. */
function fit(fields: readonly FieldSpec[], v: number, obj: Obj): Obj {
  const out: Obj = {};
  for (const f of fields) {
    if (!(f.name in obj) || !inVersions(parseVersions(f.versions), v)) continue;
    let value = obj[f.name];
    const t = f.type;
    if (typeof t === 'object' && 'array' in t && typeof t.array !== 'string' && Array.isArray(value)) {
      const element = t.array as readonly FieldSpec[];
      value = value.map((e) => fit(element, v, e as Obj));
    } else if (typeof t === 'object' && 'struct' in t && value) value = fit(t.struct, v, value as Obj);
    out[f.name] = value;
  }
  return out;
}

function responseFrame(api: AnyApi, version: number, body: Obj, correlationId = 7): Buffer {
  const codec = api.responseCodec(version) as unknown as Codec<Obj>;
  const fitted = fit(api.response, version, body);
  const flexibleHeader = responseHeaderVersion(api, version) === 1;
  const size = 4 + (flexibleHeader ? 1 : 0) + codec.size(fitted);
  const w = new Writer(4 + size);
  w.int32(size);
  w.int32(correlationId);
  if (flexibleHeader) w.uvarint(0);
  codec.write(w, fitted);
  return w.finish();
}

const LONG = `proxy-${'x'.repeat(190)}.example`; // a 2-byte compact length, a tagged size past 127
const MOVES: Record<string, { host: string; port: number }> = {
  'broker-1.example.com:9092': { host: '127.0.0.1', port: 40001 },
  'b2:9093': { host: LONG, port: 40002 },
};

/** `body` with every address of MOVES replaced, for the expected encoding. */
function moved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(moved);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const o = value as Obj;
    const out: Obj = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, moved(v)]));
    const to = typeof o['host'] === 'string' ? MOVES[`${o['host']}:${String(o['port'])}`] : undefined;
    const id = (o['nodeId'] ?? o['brokerId']) as number | undefined;
    if (to && id !== undefined && id >= 0) Object.assign(out, to);
    return out;
  }
  return value;
}

const TOPIC_ID = 'MnpqgE0ZR6K_3Z5oFPxRoQ';
const BROKERS = [
  { nodeId: 1, host: 'broker-1.example.com', port: 9092, rack: 'r1' },
  { nodeId: 2, host: 'b2', port: 9093, rack: null },
];

const CASES: { key: number; body: Obj; count: (v: number) => number }[] = [
  {
    key: 3, // Metadata
    body: {
      throttleTimeMs: 5,
      brokers: BROKERS,
      clusterId: 'cluster-a',
      controllerId: 1,
      topics: [{ errorCode: 0, name: 'orders', topicId: TOPIC_ID, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 2, leaderEpoch: 3, replicaNodes: [1, 2], isrNodes: [2], offlineReplicas: [] }] }],
      errorCode: 0,
    },
    count: () => 2,
  },
  {
    key: 10, // FindCoordinator
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 2,
      host: 'b2',
      port: 9093,
      coordinators: [
        { key: 'group-a', nodeId: 1, host: 'broker-1.example.com', port: 9092, errorCode: 0, errorMessage: null },
        { key: 'group-b', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'COORDINATOR_NOT_AVAILABLE' },
        { key: 'group-c', nodeId: 2, host: 'b2', port: 9093, errorCode: 0, errorMessage: null },
      ],
    },
    count: (v) => (v < 4 ? 1 : 2),
  },
  {
    key: 60, // DescribeCluster
    body: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, endpointType: 1, clusterId: 'cluster-a', controllerId: 1, brokers: BROKERS.map(({ nodeId, ...b }) => ({ brokerId: nodeId, ...b, isFenced: false })), clusterAuthorizedOperations: -2147483648 },
    count: () => 2,
  },
  {
    key: 0, // Produce
    body: {
      responses: [{ name: 'orders', topicId: TOPIC_ID, partitionResponses: [{ index: 0, errorCode: 6, baseOffset: -1n, currentLeader: { leaderId: 2, leaderEpoch: 4 } }] }],
      throttleTimeMs: 0,
      nodeEndpoints: BROKERS,
    },
    count: () => 2,
  },
  {
    key: 1, // Fetch
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 'orders', topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, errorCode: 6, highWatermark: 10n, records: null, currentLeader: { leaderId: 2, leaderEpoch: 4 } }] }],
      nodeEndpoints: BROKERS,
    },
    count: () => 2,
  },
];

describe('broker address rewriting', () => {
  for (const c of CASES) {
    const api = apiDefinition(c.key)!;
    const versions = [];
    for (let v = api.minVersion; v <= api.maxVersion; v++) if (carriesAddresses(c.key, v)) versions.push(v);
    it.each(versions)(`${api.name} v%i: only host, port and the sizes change`, (v) => {
      const frame = responseFrame(api, v, c.body);
      const annotated = annotateResponse(frame, c.key, v);
      expect(findAddresses(annotated.nodes)).toHaveLength(c.count(v));
      const { frame: out, changes } = rewriteAddresses(frame, annotated.nodes, (a) => MOVES[`${a.host}:${a.port}`]);
      expect(changes).toHaveLength(c.count(v));
      expect(out.toString('hex')).toBe(responseFrame(api, v, moved(c.body) as Obj).toString('hex'));
      // And it decodes, with the new addresses.
      const again = annotateResponse(out, c.key, v);
      expect(again.trailing).toBe(0);
      expect(findAddresses(again.nodes).map((a) => `${a.nodeId}@${a.host}:${a.port}`).sort()).toEqual(
        findAddresses(annotated.nodes).map((a) => `${a.nodeId}@${MOVES[`${a.host}:${a.port}`]!.host}:${MOVES[`${a.host}:${a.port}`]!.port}`).sort(),
      );
    });
  }

  it('leaves a frame alone (the same buffer) when no address moves', () => {
    const api = apiDefinition(3)!;
    const frame = responseFrame(api, 12, CASES[0]!.body);
    const { frame: out, changes } = rewriteAddresses(frame, annotateResponse(frame, 3, 12).nodes, () => undefined);
    expect(out).toBe(frame);
    expect(changes).toEqual([]);
  });

  it('Produce and Fetch answers before KIP-951 carry no addresses', () => {
    expect(carriesAddresses(0, 9)).toBe(false);
    expect(carriesAddresses(0, 10)).toBe(true);
    expect(carriesAddresses(1, 15)).toBe(false);
    expect(carriesAddresses(1, 16)).toBe(true);
    expect(carriesAddresses(18, 3)).toBe(false);
  });
});
