/**
 * KafkaJS's producer on kafka-wire.
 *
 * KafkaJS sets `acks`, `compression` and `timeout` per send(); kafka-wire sets them per
 * producer. So one KafkaJS producer keeps one kafka-wire Producer per setting actually
 * used, created on first use and all closed by disconnect(). Transactional sends go
 * through one more, the only one with the transactionalId (two would fence each other).
 */
import type { Partitioner, PartitionerContext } from '../producer/partitioners/index.js';
import { Producer as WireProducer } from '../producer/producer.js';
import type { ProducerRecord as WireRecord, RecordHeaderInput, RecordMetadata as WireMetadata } from '../producer/types.js';
import { KafkaJSError, KafkaJSNonRetriableError, toKafkaJSError } from './errors.js';
import { events, ProducerEventEmitter } from './events.js';
import type { Logger } from './logger.js';
import { checkProducerConfig, defaultTimeout, refuse, toAcks, toCompression, toProducerOptions, type SendSetting } from './options.js';
import { Partitioners, type ICustomPartitioner, type PartitionMetadata, type PartitionerMessage } from './partitioners.js';
import { CompressionTypes } from './types.js';
import type { IHeaders, KafkaConfig, Message, Offsets, Producer, ProducerBatch, ProducerConfig, ProducerRecord, RecordMetadata, RetryOptions, TopicMessages, Transaction } from './types.js';

type Status = 'disconnected' | 'connected' | 'disconnecting';

/** What the Kafka client hands its producers. */
export interface ClientContext {
  config: KafkaConfig;
  logger: Logger;
  bootstrap: () => Promise<string[]>;
}

function toHeaders(headers: IHeaders | undefined): RecordHeaderInput[] | undefined {
  if (!headers) return undefined;
  const list: RecordHeaderInput[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) list.push({ key, value: v });
  }
  return list;
}

/** KafkaJS's validation of a batch, with its messages, before anything is sent. */
function validate(topicMessages: readonly TopicMessages[]): void {
  if (topicMessages.some(({ topic }) => !topic)) throw new KafkaJSNonRetriableError('Invalid topic');
  for (const { topic, messages } of topicMessages) {
    if (!messages) throw new KafkaJSNonRetriableError(`Invalid messages array [${String(messages)}] for topic "${topic}"`);
    const noValue = messages.find((m) => m.value === undefined);
    if (noValue) throw new KafkaJSNonRetriableError(`Invalid message without value for topic "${topic}": ${JSON.stringify(noValue)}`);
  }
}

/** Same topic twice in one sendBatch(): one entry, messages in order (as KafkaJS merges them). */
function mergeByTopic(topicMessages: readonly TopicMessages[]): TopicMessages[] {
  const merged = new Map<string, Message[]>();
  for (const { topic, messages } of topicMessages) merged.set(topic, [...(merged.get(topic) ?? []), ...messages]);
  return [...merged].map(([topic, messages]) => ({ topic, messages }));
}

/** KafkaJS answers per topic-partition: the first offset this send got there. */
function summarize(order: readonly string[], records: readonly WireRecord[], results: readonly WireMetadata[]): RecordMetadata[] {
  const byPartition = new Map<string, RecordMetadata & { first: bigint }>();
  results.forEach((r, i) => {
    const id = `${r.topic}\0${r.partition}`;
    const seen = byPartition.get(id);
    if (seen && seen.first <= r.offset) return;
    // Our records carry their CreateTime: a different timestamp back is the broker's LogAppendTime.
    const logAppendTime = r.timestamp === records[i]!.timestamp ? '-1' : String(r.timestamp);
    byPartition.set(id, { topicName: r.topic, partition: r.partition, errorCode: 0, baseOffset: String(r.offset), logAppendTime, logStartOffset: String(r.logStartOffset), first: r.offset });
  });
  return [...byPartition.values()]
    .sort((a, b) => order.indexOf(a.topicName) - order.indexOf(b.topicName) || a.partition - b.partition)
    .map(({ first: _first, ...meta }) => meta);
}

/**
 * A KafkaJS custom partitioner as a kafka-wire one. kafka-wire tells partitioners the
 * partition count and which have a leader (not the leaders' node ids: `leader` is 0 for a
 * partition with one, -1 without). The message is the one given to send(), found by its
 * topic and key (or value, without a key), since kafka-wire hands partitioners bytes.
 */
class PartitionerBridge {
  readonly partitioner: Partitioner;
  readonly #inFlight = new Map<string, { message: Message; refs: number }>();
  #metadata = new Map<string, { count: number; available: readonly number[]; list: PartitionMetadata[] }>();

  constructor(create: ICustomPartitioner) {
    const custom = create();
    this.partitioner = (ctx) => custom({ topic: ctx.topic, partitionMetadata: this.#partitionMetadata(ctx), message: this.#message(ctx) });
  }

  static #fingerprint(topic: string, key: Buffer | string | null | undefined, value: Buffer | string | null | undefined): string {
    const bytes = (v: Buffer | string): string => (typeof v === 'string' ? Buffer.from(v) : v).toString('latin1');
    if (key != null) return `${topic}\0k${bytes(key)}`;
    return `${topic}\0v${value == null ? '' : bytes(value)}`;
  }

  /** Remembers a message while it is being sent; the returned function forgets it. */
  hold(topic: string, message: Message): () => void {
    const id = PartitionerBridge.#fingerprint(topic, message.key, message.value);
    const entry = this.#inFlight.get(id);
    if (entry) {
      entry.refs++;
      entry.message = message;
    } else this.#inFlight.set(id, { message, refs: 1 });
    return () => {
      const e = this.#inFlight.get(id);
      if (e && --e.refs === 0) this.#inFlight.delete(id);
    };
  }

  #message(ctx: PartitionerContext): PartitionerMessage {
    const held = this.#inFlight.get(PartitionerBridge.#fingerprint(ctx.topic, ctx.key, ctx.value));
    return held?.message ?? { key: ctx.key, value: ctx.value };
  }

  #partitionMetadata(ctx: PartitionerContext): PartitionMetadata[] {
    const cached = this.#metadata.get(ctx.topic);
    if (cached && cached.count === ctx.partitionCount && cached.available === ctx.availablePartitions) return cached.list;
    const available = new Set(ctx.availablePartitions);
    const list = Array.from({ length: ctx.partitionCount }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: available.has(partitionId) ? 0 : -1,
      replicas: [],
      isr: [],
      offlineReplicas: [],
    }));
    this.#metadata.set(ctx.topic, { count: ctx.partitionCount, available: ctx.availablePartitions, list });
    return list;
  }
}

export class KafkaJSProducer {
  readonly #client: ClientContext;
  readonly #config: ProducerConfig;
  readonly #retry: RetryOptions;
  readonly #logger: Logger;
  readonly #emitter: ProducerEventEmitter;
  readonly #bridge: PartitionerBridge | undefined;
  readonly #idempotent: boolean;
  #status: Status = 'disconnected';
  /** kafka-wire producers by setting; promises, so concurrent first sends share one. */
  #wire = new Map<string, Promise<WireProducer>>();
  #transaction: { active: boolean } | undefined;

  constructor(client: ClientContext, config: ProducerConfig) {
    this.#client = client;
    this.#config = config;
    this.#retry = { ...client.config.retry, ...checkProducerConfig(config) };
    this.#idempotent = config.idempotent === true;
    if (this.#idempotent && this.#retry.retries !== undefined && this.#retry.retries < 1) {
      throw new KafkaJSNonRetriableError('Idempotent producer must allow retries to protect against transient errors');
    }
    this.#logger = client.logger.namespace('Producer');
    this.#emitter = new ProducerEventEmitter(this.#logger, client.config.clientId ?? 'kafkajs');
    const create = config.createPartitioner;
    // KafkaJS 2's default is kafka-wire's own keyed partitioning: keep kafka-wire's fast path.
    const builtIn = create === undefined || create === Partitioners.DefaultPartitioner;
    this.#bridge = builtIn ? undefined : new PartitionerBridge(create);
  }

  /** The KafkaJS producer object: plain functions, so destructuring them works as with KafkaJS. */
  api(): Producer {
    return {
      connect: () => this.#connect(),
      disconnect: () => this.#disconnect(),
      isIdempotent: () => this.#idempotent,
      events,
      on: ((eventName: string, listener: (event: never) => unknown) => this.#emitter.on(eventName, listener as never)) as Producer['on'],
      send: (record) => this.#send(record, false),
      sendBatch: (batch) => this.#sendBatch(batch, false),
      transaction: () => this.#beginTransaction(),
      logger: () => this.#logger,
    };
  }

  async #connect(): Promise<void> {
    try {
      const wire = await this.#producerFor(this.#setting({}, false));
      await wire.connect();
    } catch (err) {
      throw toKafkaJSError(err);
    }
    this.#status = 'connected';
    this.#emitter.emit(events.CONNECT);
  }

  async #disconnect(): Promise<void> {
    this.#status = 'disconnecting';
    const producers = [...this.#wire.values()];
    this.#wire = new Map();
    this.#transaction = undefined;
    this.#emitter.untrackAll();
    // A producer whose creation failed has nothing to close.
    await Promise.all(producers.map((p) => p.then((w) => w.close(), () => undefined)));
    this.#status = 'disconnected';
    this.#emitter.emit(events.DISCONNECT);
  }

  #setting(batch: ProducerBatch, transactional: boolean): SendSetting {
    const acks = toAcks(batch.acks ?? -1);
    if ((this.#idempotent || transactional) && acks !== -1) {
      throw new KafkaJSNonRetriableError("Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees");
    }
    return { acks, compression: toCompression(batch.compression), timeoutMs: batch.timeout ?? defaultTimeout(this.#client.config), transactional };
  }

  #producerFor(setting: SendSetting): Promise<WireProducer> {
    const key = `${setting.acks}|${setting.compression}|${setting.timeoutMs}|${setting.transactional}`;
    let wire = this.#wire.get(key);
    if (!wire) {
      wire = this.#client.bootstrap().then((bootstrap) => {
        const options = toProducerOptions(this.#client.config, bootstrap, this.#config, this.#retry, setting);
        if (this.#bridge) options.partitioner = this.#bridge.partitioner;
        const producer = new WireProducer(options);
        this.#emitter.track(producer);
        return producer;
      });
      this.#wire.set(key, wire);
      // A failed creation (a bad option) is not kept: the next send tries again and says why.
      wire.catch(() => this.#wire.get(key) === wire && this.#wire.delete(key));
    }
    return wire;
  }

  #checkStatus(): void {
    if (this.#status === 'disconnecting') throw new KafkaJSNonRetriableError("The producer is disconnecting; therefore, it can't safely accept messages anymore");
    if (this.#status === 'disconnected') throw new KafkaJSError('The producer is disconnected');
  }

  #send({ topic, messages, acks, timeout, compression }: ProducerRecord, transactional: boolean): Promise<RecordMetadata[]> {
    return this.#sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] }, transactional);
  }

  async #sendBatch(batch: ProducerBatch, transactional: boolean): Promise<RecordMetadata[]> {
    const topicMessages = batch.topicMessages ?? [];
    validate(topicMessages);
    const setting = this.#setting(batch, transactional);
    this.#checkStatus();
    const merged = mergeByTopic(topicMessages);
    const records: WireRecord[] = [];
    const release: Array<() => void> = [];
    try {
      // Inside the try: a message that fails to convert half-way lets go of those held before it.
      for (const { topic, messages } of merged) {
        for (const m of messages) {
          records.push({
            topic,
            key: m.key ?? null,
            value: m.value,
            headers: toHeaders(m.headers),
            partition: m.partition ?? undefined,
            // Set here, so that a different timestamp back can only be the broker's LogAppendTime.
            timestamp: m.timestamp === undefined ? Date.now() : Number(m.timestamp),
          });
          if (this.#bridge) release.push(this.#bridge.hold(topic, m));
        }
      }
      const wire = await this.#producerFor(setting);
      const results = await wire.sendBatch(records);
      return setting.acks === 0 ? [] : summarize(merged.map((t) => t.topic), records, results);
    } catch (err) {
      throw toKafkaJSError(err);
    } finally {
      for (const r of release) r();
    }
  }

  async #beginTransaction(): Promise<Transaction> {
    const { transactionalId } = this.#config;
    if (!transactionalId) throw new KafkaJSNonRetriableError('Must provide transactional id for transactional producer');
    if (this.#transaction?.active) {
      throw new KafkaJSNonRetriableError('There is already an ongoing transaction for this producer. Please end the transaction before beginning another.');
    }
    this.#checkStatus();
    const setting = this.#setting({}, true);
    let wire: WireProducer;
    try {
      wire = await this.#producerFor(setting);
      if (wire.transactionState === 'uninitialized') await wire.initTransactions();
      wire.beginTransaction();
    } catch (err) {
      throw toKafkaJSError(err);
    }
    const txn: { active: boolean } = (this.#transaction = { active: true });
    const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      if (!txn.active) throw new KafkaJSNonRetriableError('Cannot continue to use transaction once ended');
      return fn(...args);
    };
    // kafka-wire's transactional producer has one compression and timeout: sends in a transaction use those.
    const sameSetting = (batch: ProducerBatch): ProducerBatch => {
      const s = this.#setting(batch, true);
      if (s.compression !== setting.compression) {
        refuse(
          `compression ${CompressionTypes[batch.compression!] ?? String(batch.compression)} in a transaction`,
          "a transaction's records all go through one kafka-wire transactional producer, which compresses nothing: send them without compression (or use kafka-wire's own Producer with compression and transactionalId)",
        );
      }
      if (s.timeoutMs !== setting.timeoutMs) refuse(`timeout ${String(batch.timeout)} in a transaction`, "a transaction's records all go through one kafka-wire transactional producer, whose timeout is the client's requestTimeout");
      return batch;
    };
    const end = (how: () => Promise<void>) => async (): Promise<void> => {
      try {
        await how();
      } catch (err) {
        throw toKafkaJSError(err);
      }
      txn.active = false;
    };
    return {
      send: guard((record: ProducerRecord) => this.#sendBatch(sameSetting({ ...record, topicMessages: [{ topic: record.topic, messages: record.messages }] }), true)),
      sendBatch: guard((batch: ProducerBatch) => this.#sendBatch(sameSetting(batch), true)),
      sendOffsets: guard(async ({ consumerGroupId, topics }: Offsets & { consumerGroupId: string }) => {
        const offsets = topics.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset: BigInt(offset) })));
        try {
          await wire.sendOffsetsToTransaction(offsets, { groupId: consumerGroupId });
        } catch (err) {
          throw toKafkaJSError(err);
        }
      }),
      commit: guard(end(() => wire.commitTransaction())),
      abort: guard(end(() => wire.abortTransaction())),
      isActive: () => txn.active,
    };
  }
}
