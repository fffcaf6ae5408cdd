/**
 * A one-node "broker" that answers every request the conformance suite sends, as simply
 * as it can: it stores and hands back batches, and validates nothing (no size limit, no
 * CRC, no sequences, no transactions: read_committed sees everything). Tests make it give
 * one wrong answer more with `tamper`, and check that the suite notices. Not a model of
 * Kafka: for that the suite runs against Kafka.
 * Quotas: a client id over its producer_byte_rate (counted over one second, from the first
 * Produce) gets throttle_time_ms in the answer at once and its connection is muted for
 * that long (KIP-219); with `holdThrottledAnswers` it holds the answer instead (pre-KIP-219).
 */
import type { Socket } from 'node:net';
import type { AnyApi } from '../../../src/protocol/api.js';
import { API_BY_KEY, ApiVersions } from '../../../src/protocol/apis/index.js';
import { OffsetFetch } from '../../../src/protocol/generated/offset-fetch.js';
import { skipTaggedFields } from '../../../src/protocol/codec.js';
import { requestHeaderVersion } from '../../../src/protocol/frame.js';
import { Reader } from '../../../src/protocol/reader.js';
import { encodeResponse } from '../../../src/conformance/exchange.js';
import { fakeServer, type FakeServer } from '../../helpers/fake-server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are built loosely here; the codecs check them */
type Body = any;

/** The versions served: Kafka 4.x's ranges, Produce at one version to keep the run short. */
const SERVED: Record<number, [number, number]> = {
  0: [9, 9], // Produce
  1: [4, 12], // Fetch (by topic name)
  2: [1, 8], // ListOffsets
  3: [0, 12], // Metadata
  10: [0, 4], // FindCoordinator
  18: [0, 4], // ApiVersions
  19: [2, 7], // CreateTopics
  20: [1, 6], // DeleteTopics
  22: [0, 5], // InitProducerId
  24: [0, 3], // AddPartitionsToTxn
  25: [0, 4], // AddOffsetsToTxn
  26: [0, 4], // EndTxn
  28: [0, 4], // TxnOffsetCommit
  9: [1, 9], // OffsetFetch
  49: [0, 1], // AlterClientQuotas
};

interface Quota {
  byteRate: number;
  bytes: number;
  since: number;
}

/** Changes an answer before it leaves: (api, version, request body, answer) → answer. */
export type Tamper = (api: AnyApi, version: number, request: Body, response: Body) => Body;

interface Topic {
  id: string;
  partitions: Buffer[][];
}

export class NaiveBroker {
  readonly topics = new Map<string, Topic>();
  tamper: Tamper = (_api, _v, _req, res) => res;
  holdThrottledAnswers = false;
  /** Awaited before a request is handled: a test holds one here to act while it is in flight. */
  beforeHandling: (api: AnyApi, request: Body) => Promise<void> | void = () => undefined;
  /** producer_byte_rate by client id. */
  readonly quotas = new Map<string, Quota>();
  /** Committed offsets by `group topic partition`, at once (transactions or not). */
  readonly offsets = new Map<string, bigint>();
  /** Answers on a socket go out in order, after its mute ends. */
  readonly #queues = new WeakMap<Socket, Promise<void>>();
  private constructor(readonly server: FakeServer) {}

  static async start(): Promise<NaiveBroker> {
    let broker: NaiveBroker | undefined;
    const server = await fakeServer((req, socket) => broker!.enqueue(req.frame, socket));
    broker = new NaiveBroker(server);
    return broker;
  }

  get bootstrap(): string {
    return `${this.server.host}:${this.server.port}`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private enqueue(frame: Buffer, socket: Socket): void {
    const queue = (this.#queues.get(socket) ?? Promise.resolve()).then(() => this.handle(frame, socket));
    this.#queues.set(socket, queue.catch(() => void socket.destroy()));
  }

  private async handle(frame: Buffer, socket: Socket): Promise<void> {
    const r = new Reader(frame);
    const [key, version, correlationId] = [r.int16(), r.int16(), r.int32()];
    const clientId = r.nullableString() ?? '';
    const api = (key === OffsetFetch.key ? OffsetFetch : API_BY_KEY.get(key)) as AnyApi;
    if (key === ApiVersions.key && version > ApiVersions.maxVersion) {
      // KIP-511: an unknown version is answered in v0, with our range for ApiVersions.
      const body = this.tamper(ApiVersions, 0, {}, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }] });
      socket.write(encodeResponse(ApiVersions, 0, correlationId, body));
      return;
    }
    if (requestHeaderVersion(api, version) === 2) skipTaggedFields(r);
    const request = api.requestCodec(version).read(r) as Body;
    await this.beforeHandling(api, request);
    const answer = this.answer(key, version, request);
    if (answer === null) return; // Produce with acks=0
    const throttleTimeMs = key === 0 ? this.throttle(clientId, frame.length) : 0;
    if (throttleTimeMs > 0) answer.throttleTimeMs = throttleTimeMs;
    const write = (): boolean => socket.write(encodeResponse(api, version, correlationId, this.tamper(api, version, request, answer)));
    if (throttleTimeMs > 0 && this.holdThrottledAnswers) await sleep(throttleTimeMs);
    write();
    if (throttleTimeMs > 0 && !this.holdThrottledAnswers) await sleep(throttleTimeMs);
  }

  private offsetFetch(version: number, req: Body): Body {
    const topics = (groupId: string, asked: Body[]): Body[] =>
      asked.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p: number) => ({ partitionIndex: p, committedOffset: this.offsets.get(`${groupId} ${t.name} ${p}`) ?? -1n, metadata: '', errorCode: 0 })),
      }));
    if (version < 8) return { throttleTimeMs: 0, topics: topics(req.groupId, req.topics), errorCode: 0 };
    return { throttleTimeMs: 0, groups: req.groups.map((g: Body) => ({ groupId: g.groupId, topics: topics(g.groupId, g.topics), errorCode: 0 })) };
  }

  /** Counts a Produce against its client id's quota; the throttle time it earns. */
  private throttle(clientId: string, bytes: number): number {
    const quota = this.quotas.get(clientId);
    if (!quota) return 0;
    quota.bytes += bytes;
    const allowed = (quota.byteRate * Math.max(1_000, Date.now() - quota.since)) / 1_000;
    return quota.bytes > allowed ? Math.round(((quota.bytes - allowed) / quota.byteRate) * 1_000) : 0;
  }

  private alterQuotas(req: Body): Body {
    return {
      throttleTimeMs: 0,
      entries: req.entries.map((e: Body) => {
        const name = e.entity[0].entityName as string;
        for (const op of e.ops) {
          if (op.key !== 'producer_byte_rate') return { errorCode: 42, errorMessage: `unknown quota key ${op.key}`, entity: e.entity };
          if (op.remove) this.quotas.delete(name);
          else this.quotas.set(name, { byteRate: op.value, bytes: 0, since: Date.now() });
        }
        return { errorCode: 0, errorMessage: null, entity: e.entity };
      }),
    };
  }

  private answer(key: number, version: number, req: Body): Body {
    switch (key) {
      case 18:
        return { errorCode: 0, apiKeys: Object.entries(SERVED).map(([k, [min, max]]) => ({ apiKey: Number(k), minVersion: min, maxVersion: max })) };
      case 3:
        return this.metadata(req);
      case 19:
        return { topics: req.topics.map((t: Body) => this.create(t)) };
      case 20:
        return { responses: (version >= 6 ? req.topics.map((t: Body) => t.name) : req.topicNames).map((name: string) => ({ name, errorCode: this.topics.delete(name) ? 0 : 3 })) };
      case 2:
        return { topics: req.topics.map((t: Body) => ({ name: t.name, partitions: t.partitions.map((p: Body) => ({ partitionIndex: p.partitionIndex, errorCode: 0, offset: this.end(t.name, p.partitionIndex) })) })) };
      case 0:
        return this.produce(req);
      case 1:
        return this.fetch(req);
      case 10:
        return version >= 4 ? { coordinators: req.coordinatorKeys.map((k: string) => ({ key: k, nodeId: 0, host: this.server.host, port: this.server.port, errorCode: 0 })) } : { errorCode: 0, nodeId: 0, host: this.server.host, port: this.server.port };
      case 22:
        return { errorCode: 0, producerId: 1000n, producerEpoch: 0 };
      case 24:
        return { throttleTimeMs: 0, resultsByTopicV3AndBelow: req.v3AndBelowTopics.map((t: Body) => ({ name: t.name, resultsByPartition: t.partitions.map((p: number) => ({ partitionIndex: p, partitionErrorCode: 0 })) })) };
      case 49:
        return this.alterQuotas(req);
      case 9:
        return this.offsetFetch(version, req);
      case 25:
      case 26:
        return { throttleTimeMs: 0, errorCode: 0 };
      case 28:
        for (const t of req.topics) for (const p of t.partitions) this.offsets.set(`${req.groupId} ${t.name} ${p.partitionIndex}`, p.committedOffset);
        return { throttleTimeMs: 0, topics: req.topics.map((t: Body) => ({ name: t.name, partitions: t.partitions.map((p: Body) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })) })) };
      default:
        throw new Error(`the naive broker does not answer API ${key}`);
    }
  }

  private metadata(req: Body): Body {
    const names: string[] = req.topics === null ? [...this.topics.keys()] : req.topics.map((t: Body) => t.name ?? [...this.topics].find(([, x]) => x.id === t.topicId)?.[0]);
    return {
      brokers: [{ nodeId: 0, host: this.server.host, port: this.server.port }],
      clusterId: 'naive',
      controllerId: 0,
      topics: names.map((name) => {
        const topic = this.topics.get(name);
        const partitions = (topic?.partitions ?? []).map((_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 0, replicaNodes: [0], isrNodes: [0] }));
        return { errorCode: topic ? 0 : 3, name, topicId: topic?.id ?? 'AAAAAAAAAAAAAAAAAAAAAA', partitions };
      }),
    };
  }

  private create(t: Body): Body {
    if (this.topics.has(t.name)) return { name: t.name, errorCode: 36, errorMessage: `Topic '${t.name}' already exists.` };
    const id = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString('base64url');
    this.topics.set(t.name, { id, partitions: Array.from({ length: t.numPartitions }, () => []) });
    return { name: t.name, topicId: id, errorCode: 0, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, configs: t.configs.map((c: Body) => ({ ...c, readOnly: false, isSensitive: false })) };
  }

  private end(topic: string, partition: number): bigint {
    return (this.topics.get(topic)?.partitions[partition] ?? []).reduce((n, b) => n + BigInt(b.readInt32BE(57)), 0n);
  }

  private produce(req: Body): Body {
    const responses = req.topicData.map((t: Body) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p: Body) => {
        const log = this.topics.get(t.name)?.partitions[p.index];
        if (!log) return { index: p.index, errorCode: 3, baseOffset: -1n };
        const baseOffset = this.end(t.name, p.index);
        const batch = Buffer.from(p.records as Buffer);
        batch.writeBigInt64BE(baseOffset, 0);
        log.push(batch);
        return { index: p.index, errorCode: 0, baseOffset };
      }),
    }));
    return req.acks === 0 ? null : { responses };
  }

  private fetch(req: Body): Body {
    return {
      responses: req.topics.map((t: Body) => ({
        topic: t.topic,
        partitions: t.partitions.map((p: Body) => {
          const log = this.topics.get(t.topic)?.partitions[p.partition] ?? [];
          const high = this.end(t.topic, p.partition);
          const records = Buffer.concat(log.filter((b) => b.readBigInt64BE(0) + BigInt(b.readInt32BE(57)) > p.fetchOffset));
          return { partitionIndex: p.partition, errorCode: 0, highWatermark: high, lastStableOffset: high, abortedTransactions: [], records };
        }),
      })),
    };
  }
}
