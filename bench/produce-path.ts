/**
 * kafka-wire's own CPU per record, with no socket and no broker. The producer dials an
 * in-process channel that encodes each request as a connection does (encodeRequestChunks),
 * and answers it after `--latency` ms with every partition written, encoded and then decoded
 * as a connection decodes. Records are sent as the benchmark's runner sends them
 * (produce() with a callback, a window of records unacknowledged).
 *
 * What the broker, the kernel and the other process on the machine cost is left out, so
 * runs differ far less than `npm run bench`'s: a tool to compare builds of the producer (and
 * to profile it), not a benchmark against other clients.
 *
 *   npx tsx bench/produce-path.ts [--records 1000000] [--warmup 200000] [--partitions 6] [--topics 1]
 *     [--keys 0] [--value-bytes 100] [--compression none] [--latency 1] [--batch-size 16384]
 *     [--max-batch-size B] [--max-request-size B] [--linger-ms 5] [--fresh-values] [--api produce|send|sendBatch]
 *     [--call 100] [--headers 0] [--rate 0] [--mark-phases] [--entry dist/index.js]
 *
 * `--entry` loads a build (dist/index.js, or a worktree's) instead of src/. Prints one line
 * of JSON: CPU µs per record over the measured records (process.cpuUsage: every thread),
 * records/s, requests and batches.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BrokerFeatures } from '../src/net/broker-connection.js';
import type * as ApiModule from '../src/protocol/api.js';
import type { AnyApi, RequestOf, ResponseOf } from '../src/protocol/api.js';
import type * as ApisModule from '../src/protocol/apis/index.js';
import type * as FrameModule from '../src/protocol/frame.js';
import type * as WriterModule from '../src/protocol/writer.js';
import type { BrokerChannel, Dialer } from '../src/producer/broker-channel.js';
import type { ProducerInternals } from '../src/producer/producer.js';
import type { Producer as ProducerClass } from '../src/producer/producer.js';
import type { ProducerOptions } from '../src/producer/types.js';
import { Pump } from './lib/child.js';
import { keyBytes, keyIndex } from './lib/protocol.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    warmup: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '6' },
    /** Topics the records go to in turn (each with --partitions partitions). */
    topics: { type: 'string', default: '1' },
    keys: { type: 'string', default: '0' },
    'value-bytes': { type: 'string', default: '100' },
    compression: { type: 'string', default: 'none' },
    latency: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '16384' },
    'max-batch-size': { type: 'string' },
    'max-request-size': { type: 'string' },
    'linger-ms': { type: 'string', default: '5' },
    entry: { type: 'string' },
    /** A new value Buffer per record, as an application serializing each one has (the benchmark sends one shared Buffer). */
    'fresh-values': { type: 'boolean', default: false },
    /** produce (a callback per record, the runner's way), send (a promise per record) or sendBatch (calls of --call records). */
    api: { type: 'string', default: 'produce' },
    call: { type: 'string', default: '100' },
    /** Headers per record (a 10-character key, a 16-byte value each). */
    headers: { type: 'string', default: '0' },
    /** Offered records/s (0: as fast as the producer takes them), paced as the benchmark's latency scenario is. */
    rate: { type: 'string', default: '0' },
    /** Prints `=== measured T` and `=== end T` around the measured records (T: CLOCK_MONOTONIC seconds), to cut --trace-opt output or a `perf record -k CLOCK_MONOTONIC` profile at them. */
    'mark-phases': { type: 'boolean', default: false },
  },
});
// The producer and the codecs its channel uses from one tree (src/ or a build): API
// definitions are compared by identity, and a codec reads only its own tree's Reader.
const entry = values.entry ? path.resolve(values.entry) : path.join(import.meta.dirname, '..', 'src', 'index.ts');
const root = path.dirname(entry);
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, file)).href)) as T;
const { decodeBody } = await load<typeof ApiModule>('protocol/api.js');
const { InitProducerId, Metadata, Produce } = await load<typeof ApisModule>('protocol/apis/index.js');
const { encodeRequestChunks } = await load<typeof FrameModule>('protocol/frame.js');
const { Writer } = await load<typeof WriterModule>('protocol/writer.js');
/** Kafka's NONE error code. */
const NONE = 0;

const RECORDS = Number(values.records);
const WARMUP = Number(values.warmup);
const PARTITIONS = Number(values.partitions);
const KEYS = Number(values.keys);
const VALUE_BYTES = Number(values['value-bytes']);
const LATENCY_MS = Number(values.latency);
const FRESH = values['fresh-values'] === true;
const TOPICS = Number(values.topics);
/** The topics records go to, in turn; each with PARTITIONS partitions and a topic id of its own (22 base64url characters). */
const TOPIC_NAMES = Array.from({ length: TOPICS }, (_, i) => (TOPICS === 1 ? 'path' : `path-${i}`));
const topicId = (i: number): string => {
  const bytes = Buffer.from('7d4b3b8a0a5e4c5d9c5e3f1e2d3c4b5a', 'hex');
  bytes.writeUInt16BE(i, 14);
  return bytes.toString('base64url');
};
const NODE = { nodeId: 1, host: '127.0.0.1', port: 9 };

/** What the producer negotiates: every API at the version this build knows, as a current broker would. */
function versionOf(api: AnyApi, max = api.maxVersion): number {
  return Math.min(max, api.maxVersion);
}

/** The answer a broker that takes everything gives, by API. */
class NullBroker {
  readonly #nextOffset = new Float64Array(PARTITIONS);
  requests = 0;
  batches = 0;

  answer(api: AnyApi, version: number, body: unknown): unknown {
    if (api === Metadata) return this.#metadata();
    if (api === InitProducerId) return { throttleTimeMs: 0, errorCode: NONE, producerId: 4242n, producerEpoch: 0 };
    if (api === Produce) return this.#produce(body as RequestOf<typeof Produce>, version);
    throw new Error(`produce-path: ${api.name} is not answered here`);
  }

  #metadata(): unknown {
    return {
      throttleTimeMs: 0,
      brokers: [{ ...NODE, rack: null }],
      clusterId: 'produce-path',
      controllerId: NODE.nodeId,
      topics: TOPIC_NAMES.map((name, t) => ({
          errorCode: NONE,
          name,
          topicId: topicId(t),
          isInternal: false,
          partitions: Array.from({ length: PARTITIONS }, (_, i) => ({
            errorCode: NONE,
            partitionIndex: i,
            leaderId: NODE.nodeId,
            leaderEpoch: 0,
            replicaNodes: [NODE.nodeId],
            isrNodes: [NODE.nodeId],
            offlineReplicas: [],
          })),
          topicAuthorizedOperations: -2147483648,
        })),
      clusterAuthorizedOperations: -2147483648,
      errorCode: NONE,
    };
  }

  #produce(req: RequestOf<typeof Produce>, version: number): unknown {
    this.requests++;
    return {
      throttleTimeMs: 0,
      responses: (req.topicData ?? []).map((td) => ({
        name: version >= 13 ? '' : td.name,
        topicId: td.topicId,
        partitionResponses: (td.partitionData ?? []).map((pd) => {
          const records = pd.records as Buffer;
          // recordCount, the batch header's last field: as many offsets as the batch holds.
          const count = records.readInt32BE(57);
          const baseOffset = this.#nextOffset[pd.index!]!;
          this.#nextOffset[pd.index!] = baseOffset + count;
          this.batches++;
          return {
            index: pd.index,
            errorCode: NONE,
            baseOffset: BigInt(baseOffset),
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          };
        }),
      })),
    };
  }
}

/** A connection to the null broker: requests encoded as a socket's writev would take them, answers decoded from bytes. */
class NullChannel implements BrokerChannel {
  readonly address = `${NODE.host}:${NODE.port}`;
  readonly features: BrokerFeatures = { finalized: new Map(), finalizedEpoch: -1n };
  readonly closed: Promise<void>;
  #open = true;
  #onClosed!: () => void;
  #correlationId = 0;

  constructor(readonly broker: NullBroker) {
    this.closed = new Promise((resolve) => (this.#onClosed = resolve));
  }

  get isOpen(): boolean {
    return this.#open;
  }

  versionFor(api: AnyApi, max?: number): number | undefined {
    return versionOf(api, max);
  }

  requireVersion(api: AnyApi, max?: number): number {
    return versionOf(api, max);
  }

  async request<A extends AnyApi>(api: A, body: RequestOf<A>, opts: { maxVersion?: number } = {}): Promise<{ version: number; response: ResponseOf<A> }> {
    const version = versionOf(api, opts.maxVersion);
    return { version, response: await this.send(api, version, body) };
  }

  send<A extends AnyApi>(api: A, version: number, body: RequestOf<A>): Promise<ResponseOf<A>> {
    encodeRequestChunks(api, version, this.#correlationId++, 'produce-path', body);
    const answer = this.broker.answer(api, version, body);
    return new Promise((resolve) => {
      setTimeout(() => {
        const codec = api.responseCodec(version);
        const w = new Writer(codec.size(answer as never));
        codec.write(w, answer as never);
        resolve(decodeBody(api, version, w.finish()));
      }, LATENCY_MS);
    });
  }

  close(): Promise<void> {
    this.destroy();
    return this.closed;
  }

  destroy(): void {
    this.#open = false;
    this.#onClosed();
  }
}

type ProducerConstructor = new (options: ProducerOptions, internals?: ProducerInternals) => ProducerClass;

const { Producer } = (await import(pathToFileURL(entry).href)) as { Producer: ProducerConstructor };
const broker = new NullBroker();
const dial: Dialer = () => Promise.resolve(new NullChannel(broker));
const producer = new Producer(
  {
    bootstrap: `${NODE.host}:${NODE.port}`,
    acks: -1,
    idempotent: true,
    lingerMs: Number(values['linger-ms']),
    batchSize: Number(values['batch-size']),
    ...(values['max-batch-size'] ? { maxBatchSize: Number(values['max-batch-size']) } : {}),
    ...(values['max-request-size'] ? { maxRequestSize: Number(values['max-request-size']) } : {}),
    compression: values.compression as ProducerOptions['compression'],
  },
  { dial },
);
await producer.connect();

const value = Buffer.alloc(VALUE_BYTES, 'x');
const keys = KEYS > 0 ? Array.from({ length: KEYS }, (_, i) => keyBytes(i)) : undefined;
const window = Math.min(100_000, Math.floor((32 * 1024 * 1024) / (VALUE_BYTES + 64)));

const HEADERS = Number(values.headers);
const CALL = Number(values.call);
// Read once: parseArgs' result is a null-prototype object in dictionary mode, and reading
// it per record cost a generic LoadIC each time (~3% of the main thread).
const API = values.api;
const RATE = Number(values.rate);
const MARK_PHASES = values['mark-phases'] === true;
/** CLOCK_MONOTONIC in seconds, as `perf record -k CLOCK_MONOTONIC` stamps samples: `perf report --time A,B` cuts at the marks. */
const monotonicSeconds = (): string => (Number(process.hrtime.bigint()) / 1e9).toFixed(6);
const headers = HEADERS > 0 ? Array.from({ length: HEADERS }, (_, i) => ({ key: `header-${String(i).padStart(3, '0')}`, value: Buffer.alloc(16, i) })) : undefined;

function record(index: number): Parameters<ProducerClass['produce']>[0] {
  const v = FRESH ? Buffer.from(value) : value;
  const topic = TOPIC_NAMES[index % TOPICS]!;
  const r: Parameters<ProducerClass['produce']>[0] = keys ? { topic, key: keys[keyIndex(index, keys.length)]!, value: v } : { topic, value: v };
  if (headers) r.headers = headers;
  return r;
}

async function phase(records: number): Promise<void> {
  const pump = new Pump(records, window, RATE);
  const failed = (error: unknown): void => pump.done(error);
  const delivered = (): void => pump.done(null);
  let call: Array<Parameters<ProducerClass['produce']>[0]> = [];
  const outcome = await pump.run((index) => {
    if (API === 'send') producer.send(record(index)).then(delivered, failed);
    else if (API === 'sendBatch') {
      call.push(record(index));
      if (call.length === CALL || index === records - 1) {
        const n = call.length;
        producer.sendBatch(call).then(
          () => { for (let i = 0; i < n; i++) pump.done(null); },
          (error: unknown) => { for (let i = 0; i < n; i++) pump.done(error); },
        );
        call = [];
      }
    } else producer.produce(record(index), pump.done);
    return true;
  });
  if (outcome.failed > 0) throw new Error(`${outcome.failed} records failed: ${outcome.firstError}`);
}

await phase(WARMUP);
const requestsBefore = broker.requests;
const batchesBefore = broker.batches;
const cpu = process.cpuUsage();
const started = performance.now();
if (MARK_PHASES) process.stdout.write(`=== measured ${monotonicSeconds()}\n`);
await phase(RECORDS);
if (MARK_PHASES) process.stdout.write(`=== end ${monotonicSeconds()}\n`);
const elapsedMs = performance.now() - started;
const used = process.cpuUsage(cpu);
await producer.close();

const cpuUs = used.user + used.system;
process.stdout.write(
  `${JSON.stringify({
    entry: path.relative(process.cwd(), entry),
    records: RECORDS,
    partitions: PARTITIONS,
    topics: TOPICS,
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    compression: values.compression,
    freshValues: FRESH,
    api: values.api,
    headers: HEADERS,
    ...(RATE > 0 ? { rate: RATE } : {}),
    cpuUsPerRecord: Number((cpuUs / RECORDS).toFixed(3)),
    recordsPerSec: Math.round(RECORDS / (elapsedMs / 1000)),
    requests: broker.requests - requestsBefore,
    batches: broker.batches - batchesBefore,
  })}\n`,
);
