/**
 * A one-node "broker" that keeps Kafka's idempotent-producer rules and misbehaves at
 * random: for what a real broker cannot be made to do thousands of times a second, with
 * a seed. It answers ApiVersions, Metadata, InitProducerId and Produce (uncompressed
 * record batches) for one topic, and appends to an in-memory log per partition.
 *
 * The sequence rules are those of Kafka 4.x's ProducerAppendInfo and UnifiedLog:
 *   - a producer the partition has no state for may start at any sequence;
 *   - an older epoch is INVALID_PRODUCER_EPOCH; a newer one must start at sequence 0;
 *   - a batch matching one of the producer's last five is a duplicate: answered with its
 *     original offset, not appended;
 *   - otherwise the first sequence must follow the last one (wrapping after int32 max),
 *     or the answer is OUT_OF_ORDER_SEQUENCE_NUMBER.
 * A restart keeps only the last batch of each producer (what a clean shutdown's snapshot
 * keeps) and drops every connection.
 *
 * Faults, per Produce request, drawn from the seeded generator: the answer lost (written,
 * then the connection dropped), the request lost (not written, connection dropped), a
 * partition refused with NOT_ENOUGH_REPLICAS (not written) or answered REQUEST_TIMED_OUT
 * (written, not acknowledged), a restart, and answers delayed so that several requests
 * are in flight. Each connection's answers leave in request order, as Kafka's do.
 */
import * as net from 'node:net';
import { encodeResponse } from '../../src/conformance/exchange.js';
import { ApiVersions, InitProducerId, Metadata, Produce } from '../../src/protocol/apis/index.js';
import type { AnyApi } from '../../src/protocol/api.js';
import { skipTaggedFields } from '../../src/protocol/codec.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { Reader } from '../../src/protocol/reader.js';
import { decodeRecordBatchesSync } from '../../src/protocol/records/index.js';

const MAX_SEQUENCE = 0x7fffffff;

/** Versions served: enough for the producer, below topic ids (Produce v13). */
const SERVED: ReadonlyArray<[AnyApi, number, number]> = [
  [Produce, 3, 11],
  [Metadata, 0, 12],
  [ApiVersions, 0, 4],
  [InitProducerId, 0, 4],
];

export interface FaultRates {
  /** Written, then the connection is dropped before the answer. */
  loseAnswer: number;
  /** Not written; the connection is dropped. */
  loseRequest: number;
  /** Per partition: NOT_ENOUGH_REPLICAS, not written. */
  refuse: number;
  /** Per partition: written, answered REQUEST_TIMED_OUT. */
  timeOut: number;
  /** The broker restarts instead of handling the request. */
  restart: number;
  /** Largest delay of an answer, ms. */
  maxDelayMs: number;
}

interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  offset: bigint;
}

interface ProducerState {
  epoch: number;
  /** Oldest first, at most five. */
  batches: BatchMetadata[];
}

interface Partition {
  values: string[];
  producers: Map<bigint, ProducerState>;
}

export class ModelBroker {
  readonly host = '127.0.0.1';
  port = 0;
  readonly nodeId = 1;
  readonly topic: string;
  readonly partitions: Partition[];
  /** What happened, for a failing test to print. */
  readonly counts = { produce: 0, lostAnswers: 0, lostRequests: 0, refused: 0, timedOut: 0, restarts: 0, duplicates: 0, outOfOrder: 0 };
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  #random: () => number;
  #faults: FaultRates;
  #nextProducerId = 1000n;

  private constructor(topic: string, partitions: number, seed: number, faults: FaultRates) {
    this.topic = topic;
    this.partitions = Array.from({ length: partitions }, () => ({ values: [], producers: new Map() }));
    this.#random = mulberry32(seed);
    this.#faults = faults;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  static async start(opts: { topic: string; partitions: number; seed: number; faults: FaultRates }): Promise<ModelBroker> {
    const broker = new ModelBroker(opts.topic, opts.partitions, opts.seed, opts.faults);
    await new Promise<void>((resolve) => broker.#server.listen(0, '127.0.0.1', resolve));
    broker.port = (broker.#server.address() as net.AddressInfo).port;
    return broker;
  }

  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  /** From now on every request is answered promptly and correctly. */
  heal(): void {
    this.#faults = { loseAnswer: 0, loseRequest: 0, refuse: 0, timeOut: 0, restart: 0, maxDelayMs: 0 };
  }

  setFaults(faults: FaultRates): void {
    this.#faults = faults;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #restart(): void {
    this.counts.restarts++;
    for (const p of this.partitions) {
      for (const state of p.producers.values()) state.batches = state.batches.slice(-1);
    }
    for (const s of this.#sockets) s.destroy();
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    // Answers leave in request order: each waits for the one before it.
    let answered = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        if (socket.destroyed) return;
        const answer = this.#handle(frame, socket);
        if (answer === null) continue;
        const delay = Math.floor(this.#random() * (this.#faults.maxDelayMs + 1));
        answered = answered.then(
          () =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                if (!socket.destroyed) socket.write(answer);
                resolve();
              }, delay),
            ),
        );
      }
    });
  }

  /** The answer frame, or null when there is none (the socket was dropped). */
  #handle(frame: Buffer, socket: net.Socket): Buffer | null {
    const r = new Reader(frame);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    r.nullableString();
    const entry = SERVED.find(([api]) => api.key === apiKey);
    if (!entry) throw new Error(`model broker: unexpected api key ${apiKey}`);
    const api = entry[0];
    if (api.isFlexible(version)) skipTaggedFields(r);
    const request = api.requestCodec(version).read(r) as Record<string, unknown>;
    let body: Record<string, unknown>;
    switch (api) {
      case ApiVersions:
        body = {
          errorCode: ErrorCode.NONE,
          apiKeys: SERVED.map(([a, min, max]) => ({ apiKey: a.key, minVersion: min, maxVersion: max })),
          throttleTimeMs: 0,
          supportedFeatures: [],
          finalizedFeatures: [],
        };
        break;
      case Metadata:
        body = {
          throttleTimeMs: 0,
          brokers: [{ nodeId: this.nodeId, host: this.host, port: this.port, rack: null }],
          clusterId: 'model',
          controllerId: this.nodeId,
          topics: [
            {
              errorCode: ErrorCode.NONE,
              name: this.topic,
              topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
              isInternal: false,
              partitions: this.partitions.map((_, i) => ({
                errorCode: ErrorCode.NONE,
                partitionIndex: i,
                leaderId: this.nodeId,
                leaderEpoch: 0,
                replicaNodes: [this.nodeId],
                isrNodes: [this.nodeId],
                offlineReplicas: [],
              })),
              topicAuthorizedOperations: -2147483648,
            },
          ],
          clusterAuthorizedOperations: -2147483648,
          errorCode: ErrorCode.NONE,
        };
        break;
      case InitProducerId:
        body = { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: this.#nextProducerId++, producerEpoch: 0 };
        break;
      default: {
        const produced = this.#produce(request as { topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Buffer }> }> });
        if (produced === 'drop') {
          socket.destroy();
          return null;
        }
        body = produced;
      }
    }
    return encodeResponse(api, version, correlationId, body as never);
  }

  #produce(request: { topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Buffer }> }> }): Record<string, unknown> | 'drop' {
    this.counts.produce++;
    const f = this.#faults;
    if (this.#random() < f.restart) {
      this.#restart();
      return 'drop';
    }
    if (this.#random() < f.loseRequest) {
      this.counts.lostRequests++;
      return 'drop';
    }
    const responses = request.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => {
        if (this.#random() < f.refuse) {
          this.counts.refused++;
          return partitionAnswer(p.index, ErrorCode.NOT_ENOUGH_REPLICAS, -1n);
        }
        const [code, offset] = this.#append(this.partitions[p.index]!, p.records);
        if (code === ErrorCode.NONE && this.#random() < f.timeOut) {
          this.counts.timedOut++;
          return partitionAnswer(p.index, ErrorCode.REQUEST_TIMED_OUT, -1n);
        }
        return partitionAnswer(p.index, code, offset);
      }),
    }));
    if (this.#random() < f.loseAnswer) {
      this.counts.lostAnswers++;
      return 'drop';
    }
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  }

  #append(partition: Partition, records: Buffer): [number, bigint] {
    const batch = decodeRecordBatchesSync(records).batches[0]!;
    const firstSeq = batch.baseSequence;
    const lastSeq = firstSeq > MAX_SEQUENCE - (batch.records.length - 1) ? batch.records.length - 2 - (MAX_SEQUENCE - firstSeq) : firstSeq + batch.records.length - 1;
    const state = partition.producers.get(batch.producerId);
    if (state) {
      if (batch.producerEpoch < state.epoch) return [ErrorCode.INVALID_PRODUCER_EPOCH, -1n];
      if (batch.producerEpoch === state.epoch) {
        const dup = state.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
        if (dup) {
          this.counts.duplicates++;
          return [ErrorCode.NONE, dup.offset];
        }
        const last = state.batches[state.batches.length - 1]!.lastSeq;
        if (firstSeq !== (last === MAX_SEQUENCE ? 0 : last + 1)) {
          this.counts.outOfOrder++;
          return [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n];
        }
      } else if (firstSeq !== 0) {
        this.counts.outOfOrder++;
        return [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n];
      }
    }
    const offset = BigInt(partition.values.length);
    for (const record of batch.records) partition.values.push(record.value!.toString());
    const next = state && state.epoch === batch.producerEpoch ? state : { epoch: batch.producerEpoch, batches: [] };
    next.batches = [...next.batches, { firstSeq, lastSeq, offset }].slice(-5);
    partition.producers.set(batch.producerId, next);
    return [ErrorCode.NONE, offset];
  }
}

function partitionAnswer(index: number, errorCode: number, baseOffset: bigint): Record<string, unknown> {
  return { index, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } };
}

/** A small seeded generator in [0, 1): the same seed, the same fault schedule (timing aside). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
