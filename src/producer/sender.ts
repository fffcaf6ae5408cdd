/**
 * The sender: turns ready batches into Produce requests and answers into outcomes.
 *
 *   partitions with batches ─► grouped by leader ─► drain (exact request size) ─► compress ─► send
 *   answer, per partition ─► delivered │ retriable: back off, same batch at the head
 *                                      │ too large: split in two, retry
 *                                      │ a sequence refusal: sequencer.ts decides
 *                                      │ otherwise: fail its records
 * A lost connection is the same per-partition failure for every batch it carried, on the
 * same path (as Java's Sender turns disconnects into per-partition errors).
 *
 * It never blocks the event loop: a run does what is possible now and arms one timer for
 * the earliest moment something else becomes possible (a linger ends, a backoff or a
 * throttle expires). Records end only through Completion.
 *
 * A run looks only at the partitions something happened to: a batch filled, an answer
 * came, or the time they were queued for came (due-queue.ts). Rarer events that may
 * change many partitions at once (metadata, a connection, a producer id, a transaction's
 * partitions, flush) ask for a run over every partition with batches instead, and so
 * does a run more than FULL_RUN_EVERY_MS after the last such one, as a safety net.
 */
import { debuglog } from 'node:util';
import { BrokerError, cannotHealByWaiting, DeliveryTimeoutError, KafkaWireError, ProtocolError, TopicError } from '../errors.js';
import { Produce } from '../protocol/apis/produce.js';
import type { ResponseOf } from '../protocol/api.js';
import { compress, compressSync, decompress } from '../protocol/compression/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { compressBatch, compressBatchSync, decodeRecordBatches } from '../protocol/records/index.js';
import { isCompressedBatch } from '../protocol/records/layout.js';
import { objectArray } from './arrays.js';
import { backoffDelay, type BackoffSettings } from './backoff.js';
import type { BrokerLink, Brokers } from './brokers.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Completion } from './completion.js';
import { DueQueue } from './due-queue.js';
import { addSequence, type ProducerIdentity } from './idempotence.js';
import { topicRefusal, type ClusterMetadata } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { Partitions, PartitionState } from './partition-state.js';
import type { ProducerBatch } from './producer-batch.js';
import { earlierAreWritten, isSequenceRefusal, refused, type SequenceOutcomes } from './sequencer.js';
import {
  BATCH_CHANNEL,
  newRequestId,
  PRODUCE_CHANNEL,
  REQUEST_CHANNEL,
  RESPONSE_CHANNEL,
  traced,
  type ProduceBatchMessage,
  type ProduceRequestMessage,
  type ProduceResponseMessage,
  type ProduceTraceContext,
} from './tracing.js';
import type { TransactionManager } from './transactions.js';
import type { BatchAnswer } from './types.js';

const debug = debuglog('kafka-wire');

/** For a batch delivered without an answer of its own (acks=0, or proven written by a later batch's). */
const UNKNOWN_ANSWER: BatchAnswer = { baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };

/** The broker remembers this many batches per producer and partition (and so dedups retries). */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/** A run over every partition with batches at least this often, whatever else happens. */
export const FULL_RUN_EVERY_MS = 1000;

export interface SenderContext {
  options: ResolvedOptions;
  clock: Clock;
  /** Set for an idempotent producer. */
  identity: ProducerIdentity | undefined;
  /** Set for a transactional producer (which is idempotent too). */
  transactions: TransactionManager | undefined;
  metadata: ClusterMetadata;
  partitions: Partitions;
  brokers: Brokers;
  completion: Completion;
  /** The memory budget: while sends wait for it, batches do not linger. */
  pool: Pick<BufferPool, 'exhausted'>;
  /** Aborted when the producer closes. */
  signal: AbortSignal;
  /** Tests set it to Infinity, so only the events themselves make the sender look at a partition. */
  fullRunEveryMs?: number;
}

type ProduceResponse = ResponseOf<typeof Produce>;
type Chosen = Array<[PartitionState, ProducerBatch]>;

/**
 * One run of #look: what #visit finds. Methods with this passed in rather than closures
 * made in each run: a closure made per run (or per request) is a new function to V8, and
 * its hot ones were compiled by TurboFan again and again.
 */
interface Look {
  readonly now: number;
  readonly byLeader: Map<BrokerLink, PartitionState[]>;
  needMetadata: boolean;
}

/** No partitions ride along (never written to). */
const NO_RIDERS: readonly PartitionState[] = objectArray();

const COMPRESSED_NEXT = Object.freeze({ compressedNext: true });
const NOT_COMPRESSED_NEXT = Object.freeze({ compressedNext: false });

/** Whether metadata has a topic id for every partition's topic (Produce v13 names topics by id). */
function haveTopicIds(metadata: SenderContext['metadata'], states: readonly PartitionState[]): boolean {
  for (const s of states) if (metadata.topicId(s.topic) === undefined) return false;
  return true;
}

/** A request's place in its broker's write order: `before` to wait for, `written` to call once queued. */
interface WriteTurn {
  before: Promise<void> | undefined;
  written: () => void;
}

export class Sender {
  readonly #ctx: SenderContext;
  readonly #backoff: BackoffSettings;
  #scheduled = false;
  /** The next run looks at every partition with batches (see the header). */
  #fullRun = true;
  #lastFullRun = -Infinity;
  readonly #fullRunEveryMs: number;
  /** Partitions the next run looks at: a batch filled, or an answer came. */
  #woken: PartitionState[] = objectArray();
  /** Partitions to look at later, by time. */
  readonly #due = new DueQueue<PartitionState>();
  /** Per broker, partitions that were ready while its requests in flight were at the limit. */
  readonly #blocked = new Map<BrokerLink, Set<PartitionState>>();
  /**
   * Partitions whose new batch lingers, by the leader they had when it opened: the next
   * request to that leader takes them along (#riders). Entries are hints, checked
   * when used; a partition sent meanwhile, or led elsewhere now, is skipped.
   */
  readonly #lingering = new Map<BrokerLink, Set<PartitionState>>();
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  /** flush() calls waiting: everything goes without lingering. */
  #flushers = 0;
  #stopped = false;
  /** Batches of one partition that may be in flight at once. */
  readonly #perPartition: number;
  readonly #outcomes: SequenceOutcomes;

  constructor(ctx: SenderContext) {
    this.#ctx = ctx;
    this.#backoff = { base: ctx.options.retryBackoffMs, max: ctx.options.retryBackoffMaxMs };
    this.#perPartition = ctx.identity ? Math.min(ctx.options.maxInFlight, MAX_IDEMPOTENT_IN_FLIGHT) : 1;
    this.#fullRunEveryMs = ctx.fullRunEveryMs ?? FULL_RUN_EVERY_MS;
    this.#outcomes = {
      written: (state, b) => this.#delivered(state, b, UNKNOWN_ANSWER),
      failed: (state, b, err) => this.#ctx.completion.batchFailed(state, b, err),
      resequenced: (n) => (this.#ctx.completion.counters.retries += n),
    };
  }

  /** Asks for a run over every partition with batches soon; many wakes in one tick make one run. */
  wake(): void {
    this.#fullRun = true;
    this.#schedule();
  }

  /** Asks for a run soon that looks at `state`: its batch filled. */
  ready(state: PartitionState): void {
    if (!state.woken) {
      state.woken = true;
      this.#woken.push(state);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    this.#ctx.clock.soon(this.#scheduledRun);
  }

  // Made once: ready() is called for every record appended to a batch past batchSize, and
  // an arrow function written inside #schedule made V8 allocate its context on every call,
  // before the early return (about 40 bytes per record, a quarter of what the 100-byte
  // benchmark allocated per record).
  readonly #scheduledRun = (): void => {
    this.#scheduled = false;
    this.#run();
  };

  readonly #timerRun = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#run();
  };

  /**
   * A batch was opened and is ready at `readyAt` unless it fills first (which wakes the
   * sender). A run now would look at every partition with batches and most likely find
   * none ready (with thousands of partitions, a run per new batch was a good part of what
   * the sender cost), so the timer is armed for it instead, unless a run has something to
   * start first: metadata, a producer id, a connection to the partition's leader.
   */
  opened(state: PartitionState, readyAt: number): void {
    const link = this.#flushers > 0 ? undefined : this.#linkToWaitOn(state);
    if (!link) return this.wake();
    if (readyAt <= this.#ctx.clock.now()) return this.ready(state);
    this.#lingerOn(link, state);
    this.#due.add(readyAt, state);
    this.#arm(readyAt);
  }

  #lingerOn(link: BrokerLink, state: PartitionState): void {
    let lingering = this.#lingering.get(link);
    if (!lingering) this.#lingering.set(link, (lingering = new Set()));
    lingering.add(state);
  }

  /**
   * The connected leader of `state`, when nothing needs doing before its batch is ready
   * (metadata fresh, the producer id in hand); undefined otherwise.
   */
  #linkToWaitOn(state: PartitionState): BrokerLink | undefined {
    const { metadata, identity } = this.#ctx;
    if (metadata.stale || (identity !== undefined && !identity.ready)) return undefined;
    const link = this.#leaderLink(state);
    return link?.ready === true ? link : undefined;
  }

  /** The link to the broker metadata names as `state`'s leader; undefined when none is known. */
  #leaderLink(state: PartitionState): BrokerLink | undefined {
    const leader = this.#ctx.metadata.topic(state.topic)?.partitions[state.partition]?.leader ?? -1;
    return leader >= 0 ? this.#ctx.brokers.forNode(leader) : undefined;
  }

  /** Sends everything buffered without lingering, until every accepted record has ended. */
  async flush(): Promise<void> {
    this.#flushers++;
    this.wake();
    try {
      await this.#ctx.completion.whenIdle();
    } finally {
      this.#flushers--;
    }
  }

  /** Stops all scheduling; the pending timer is cleared. */
  stop(): void {
    this.#stopped = true;
    this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(at: number): void {
    if (this.#stopped || !Number.isFinite(at)) return;
    if (this.#timer && at >= this.#timerAt) return;
    const { clock } = this.#ctx;
    clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimeout(this.#timerRun, at - clock.now());
  }

  #run(): void {
    if (this.#stopped) return;
    try {
      this.#look();
    } catch (err) {
      // A delivery callback threw out of the run (through #expire): partitions it had taken
      // from the woken list or the queue would be forgotten, so the next run looks at all.
      this.#fullRun = true;
      this.#schedule();
      throw err;
    }
  }

  /** One run: looks at the partitions due (or all), sends what is ready, arms the timer. */
  #look(): void {
    const { partitions, metadata, options, clock } = this.#ctx;
    const now = clock.now();
    const look: Look = { now, byLeader: new Map(), needMetadata: metadata.stale };
    const { byLeader } = look;
    const sendable = this.#maybeInitProducerId();
    const due = this.#due;

    const woken = this.#woken;
    this.#woken = objectArray();
    if (!sendable || this.#fullRun || this.#flushers > 0 || now - this.#lastFullRun >= this.#fullRunEveryMs) {
      for (const state of woken) state.woken = false;
      // Whatever is due by now is looked at below, with everything else.
      due.takeDue(now, () => {});
      if (!sendable) {
        // Nothing goes before the producer id; once it is there, a run looks at everything.
        this.#fullRun = true;
        for (const state of partitions.active) this.#expire(state, now);
      } else {
        this.#fullRun = false;
        this.#lastFullRun = now;
        this.#blocked.clear();
        // Not copied: #expire may take the state being visited out of the set, which iteration allows.
        for (const state of partitions.active) this.#visit(state, look);
      }
    } else {
      due.takeDue(now, (state) => {
        if (state.woken) return;
        state.woken = true;
        woken.push(state);
      });
      // Each once: a second visit could put a partition into a request twice.
      for (const state of woken) {
        state.woken = false;
        this.#visit(state, look);
      }
    }

    for (const [link, states] of byLeader) {
      if (link.throttledUntil > now) {
        for (const s of states) due.add(link.throttledUntil, s);
        continue;
      }
      if (!link.ready) {
        const retryAt = this.#maybeConnect(link, states, now);
        for (const s of states) due.add(retryAt, s);
        continue;
      }
      // One request after another while requests may be in flight and batches are ready:
      // pipelining does not wait for the next wake-up. But only batches worth a request of
      // their own go beside one in flight (see #worthAnother); the others wait for its answer.
      let ready = states;
      while (ready.length > 0 && link.inFlight < options.maxInFlight) {
        if (link.inFlight > 0) {
          if (!this.#worthAnother(ready)) break;
          ready = this.#withHeld(link, ready, now);
        }
        if (!this.#drain(link, ready, this.#riders(link, ready, now))) break;
        ready = ready.filter((s) => {
          const at = this.#readyAt(s, now);
          if (at > now) due.add(this.#lookAgainAt(s, at), s);
          return at <= now;
        });
      }
      // Ready, but the broker has as many requests as it may, or these are not worth another
      // beside the one in flight: the next answer from it lets them go.
      if (ready.length > 0) {
        const blocked = this.#blocked.get(link) ?? new Set<PartitionState>();
        for (const state of ready) blocked.add(state);
        this.#blocked.set(link, blocked);
      }
    }

    if (look.needMetadata) this.#refreshMetadata();
    // Not while waiting for a producer id: its arrival asks for a full run (and a past time would spin).
    const safetyNet = sendable && partitions.active.size > 0 && this.#lastFullRun > -Infinity ? Math.max(this.#lastFullRun + this.#fullRunEveryMs, now + 1) : Infinity;
    this.#arm(Math.min(due.next, safetyNet));
  }

  /** #look's step for one partition: expires what timed out, then queues it for later, or for its leader's next request. */
  #visit(state: PartitionState, look: Look): void {
    const { now } = look;
    this.#expire(state, now);
    if (state.batches.length === 0) return;
    const at = this.#readyAt(state, now);
    if (at > now) {
      this.#due.add(this.#lookAgainAt(state, at), state);
      return;
    }
    const link = this.#leaderLink(state);
    if (!link) {
      look.needMetadata = true;
      this.#due.add(now + this.#ctx.options.retryBackoffMs, state);
      return;
    }
    let list = look.byLeader.get(link);
    if (!list) look.byLeader.set(link, (list = objectArray()));
    list.push(state);
  }

  /**
   * When to look at a partition not ready now: when it will be, or when its next unsent
   * batch times out, whichever is first. While some of its batches are in a request, the
   * end of that request looks at it anyway (a request times out before any batch's delivery
   * timeout), and queueing the deadline would leave an entry behind for every request.
   */
  #lookAgainAt(state: PartitionState, readyAt: number): number {
    if (state.inFlight > 0) return readyAt;
    for (const b of state.batches) if (!b.inFlight) return Math.min(readyAt, b.deadline);
    return readyAt;
  }

  /** A request to `link` is over: its partitions, and those that waited for room on the link, are looked at next. */
  #requestOver(link: BrokerLink, chosen: Chosen): void {
    for (const [state] of chosen) this.ready(state);
    const blocked = this.#blocked.get(link);
    if (blocked) {
      this.#blocked.delete(link);
      for (const state of blocked) this.ready(state);
    }
    this.#schedule();
  }

  /** Starts a metadata refresh (shared with any in progress); the answer wakes the sender. */
  #refreshMetadata(): void {
    const { metadata, clock } = this.#ctx;
    metadata.invalidate();
    metadata.refresh().then(
      () => this.wake(),
      (err: unknown) => {
        debug('metadata refresh failed: %s', (err as Error).message);
        this.#arm(clock.now() + this.#ctx.options.retryBackoffMs);
      },
    );
  }

  /** Dials the leader unless a dial is under way or backing off; returns when to look again. */
  #maybeConnect(link: BrokerLink, states: PartitionState[], now: number): number {
    // Whoever dials, the dial's end wakes the sender (Brokers.onDialEnded).
    if (link.opening) return Infinity;
    if (link.reconnectAt > now) return link.reconnectAt;
    this.#ctx.brokers.open(link).then(
      () => this.wake(),
      (err: unknown) => {
        debug('connecting to node %d (%s) failed: %s', link.nodeId, link.address, (err as Error).message);
        // Wrong credentials or certificates, or a listener that answers in TLS or HTTP: the
        // records fail now rather than at their deadline.
        if (cannotHealByWaiting(err)) {
          for (const s of states) for (const b of [...s.batches]) if (!b.inFlight) this.#ctx.completion.batchFailed(s, b, err);
        }
        this.#ctx.metadata.invalidate();
        this.wake();
      },
    );
    return Infinity;
  }

  /**
   * Whether batches may be drained now: an idempotent producer first needs its id, and
   * asking starts InitProducerId. A transactional producer gets its id from
   * initTransactions(), and a new epoch only through the coordinator.
   */
  #maybeInitProducerId(): boolean {
    const { identity, transactions, options, clock, brokers, signal, completion, partitions } = this.#ctx;
    if (!identity) return true;
    if (transactions) return identity.ready;
    if (identity.ready) return true;
    if (!identity.initializing) {
      const ctx = { any: () => brokers.any(), clock, backoff: this.#backoff, signal };
      identity.startInit(ctx, clock.now() + options.deliveryTimeoutMs).then(
        () => this.wake(),
        (err: unknown) => {
          if (signal.aborted) return;
          debug('InitProducerId failed: %s', (err as Error).message);
          if (err instanceof KafkaWireError && !err.retriable) {
            for (const [s, b] of [...partitions.unsent()]) completion.batchFailed(s, b, err);
          }
          this.#arm(clock.now() + options.retryBackoffMs);
        },
      );
    }
    return false;
  }

  #readyAt(state: PartitionState, now: number, lingerMs = this.#ctx.options.lingerMs): number {
    const { identity, transactions } = this.#ctx;
    const perPartition = identity && !state.isKnownTo(identity.producerId, now) ? 1 : this.#perPartition;
    // Sends waiting for memory: a lingering batch holds what would let them in, and could
    // hold it for all of lingerMs (with many partitions, every batch in the budget lingers).
    const at = state.readyAt(now, lingerMs, this.#flushers > 0 || this.#ctx.pool.exhausted, perPartition);
    if (at > now) return at;
    if (transactions && !transactions.maybeAddPartition(state)) return Infinity;
    if (identity && !state.maySequence(identity)) return Infinity;
    return now;
  }

  /**
   * Whether `ready` should go in a request while another to the same broker is unanswered:
   * when a batch is full (records come faster than one request at a time takes them), is
   * a retry, or a flush waits. Otherwise the batches have only lingered, and they keep
   * taking records until the answer: with many partitions, five requests in flight each
   * took a few records per partition, and the per-batch work (finish, CRC, its entry in
   * the request and the answer) was most of the producer's CPU; holding them made the
   * batches five times bigger and the CPU per record at 1,000 partitions a third lower.
   */
  #worthAnother(ready: PartitionState[]): boolean {
    if (this.#flushers > 0) return true;
    for (const s of ready) {
      const next = s.nextToSend();
      if (next && (next.full || next.attempts > 0)) return true;
    }
    return false;
  }

  /**
   * `ready` and the partitions held for an answer from `link`, when a request goes to it
   * anyway: with a busy partition's full batches keeping a request in flight all the
   * time, a quiet one would otherwise be held after every answer until its delivery
   * timeout. Each is looked at as a run would (it may have expired, moved or be waiting).
   */
  #withHeld(link: BrokerLink, ready: PartitionState[], now: number): PartitionState[] {
    const held = this.#blocked.get(link);
    if (!held) return ready;
    this.#blocked.delete(link);
    const all = new Set(ready);
    for (const state of held) {
      if (all.has(state)) continue;
      this.#expire(state, now);
      if (state.batches.length === 0) continue;
      if (this.#leaderLink(state) !== link) {
        this.ready(state);
        continue;
      }
      const at = this.#readyAt(state, now);
      if (at > now) this.#due.add(this.#lookAgainAt(state, at), state);
      else all.add(state);
    }
    return [...all];
  }

  /**
   * A request is going to `link`: the partitions it leads whose batches still linger go
   * along (after `ready`, in the room left), as the Java client's drain takes a batch of
   * every partition of the node it sends to. Lingering is for filling batches while
   * nothing goes to their broker; once a request goes anyway, a batch in it costs a few
   * bytes, and waiting out its linger costs a request of its own (a write, an answer, a
   * sender run) and the records' time. Returns them taken out of `#lingering`; #drain
   * puts back those it has no room for.
   */
  #riders(link: BrokerLink, ready: PartitionState[], now: number): readonly PartitionState[] {
    const lingering = this.#lingering.get(link);
    if (!lingering || lingering.size === 0) return NO_RIDERS;
    const riders: PartitionState[] = objectArray();
    // A set: ready and the lingering may each hold thousands of partitions.
    const due = new Set(ready);
    for (const state of lingering) {
      if (state.batches.length === 0 || this.#leaderLink(state) !== link) {
        lingering.delete(state);
        continue;
      }
      // Ready but for the linger; one in flight as far as allowed, backing off, or not yet
      // added to the transaction stays for a later request (its due entry holds anyway).
      if (this.#readyAt(state, now, 0) > now) continue;
      lingering.delete(state);
      if (!due.has(state)) riders.push(state);
    }
    return riders;
  }

  /** Fails batches that waited past the delivery timeout without being in a request. */
  #expire(state: PartitionState, now: number): void {
    // Indexed, not copied: this runs for every partition with batches on every run.
    for (let i = 0; i < state.batches.length; i++) {
      const b = state.batches[i]!;
      if (b.inFlight) continue;
      // Batches queue in creation order: once one is in time, the rest are too.
      if (b.deadline > now) return;
      const written = b.sent ? ' and are not known to be written' : '';
      const err = new DeliveryTimeoutError(
        `${b.liveCount} record(s) for ${state.name} not delivered within deliveryTimeoutMs (${this.#ctx.options.deliveryTimeoutMs} ms)${b.attempts ? ` after ${b.attempts} attempt(s)` : ''}${written}`,
      );
      this.#ctx.completion.batchFailed(state, b, err);
      if (state.batches[i] !== b) i--;
    }
  }

  /** Sends one request with the next batch of as many ready partitions as fit; false when it sent none. */
  #drain(link: BrokerLink, ready: PartitionState[], riders: readonly PartitionState[]): boolean {
    const { options, metadata, transactions, completion, partitions } = this.#ctx;
    const channel = link.channel!;
    const allHaveIds = haveTopicIds(metadata, ready) && haveTopicIds(metadata, riders);
    let version: number;
    try {
      version = channel.requireVersion(Produce, Math.min(allHaveIds ? Produce.maxVersion : 12, transactions?.produceMaxVersion ?? Produce.maxVersion));
    } catch (err) {
      for (const s of ready) for (const b of [...s.batches]) completion.batchFailed(s, b, err as Error);
      return false;
    }
    const size = new ProduceRequestSize(version, options.clientId, transactions?.transactionalId ?? null);
    // Memory to leave free before a drained batch may keep a mostly empty pooled buffer.
    const reserve = (partitions.active.size + 1) * 2 * options.batchSize;
    const chosen: Chosen = objectArray();
    const start = link.drainStart++ % ready.length;
    for (let k = 0; k < ready.length; k++) {
      const state = ready[(start + k) % ready.length]!;
      const batch = state.nextToSend()!;
      if (chosen.length > 0 && !this.#fits(size, state, batch)) break;
      this.#take(state, batch, size, chosen, reserve);
    }
    // Riders only in the room left: one that does not fit lingers on for the next request.
    for (const state of riders) {
      const batch = state.nextToSend();
      if (batch && this.#fits(size, state, batch)) this.#take(state, batch, size, chosen, reserve);
      else this.#lingerOn(link, state);
    }
    if (chosen.length === 0) return false;
    link.inFlight++;
    completion.counters.requestsInFlight++;
    void this.#send(link, version, chosen, this.#writeTurn(link));
    return true;
  }

  /** Whether `batch` fits the request `size` measures. Exact for an uncompressed batch; a compressed one is checked again once compressed. */
  #fits(size: ProduceRequestSize, state: PartitionState, batch: ProducerBatch): boolean {
    return size.bytes + size.growth(state.topic, batch.sizeInBytes) <= this.#ctx.options.maxRequestSize;
  }

  /** Puts `batch` into the request being drained: finished (stamped with its sequence when idempotent) and in flight. */
  #take(state: PartitionState, batch: ProducerBatch, size: ProduceRequestSize, chosen: Chosen, reserve: number): void {
    const { options, identity, transactions, completion } = this.#ctx;
    size.add(state.topic, batch.sizeInBytes);
    const finishing = options.codecId !== 0 ? COMPRESSED_NEXT : NOT_COMPRESSED_NEXT;
    if (identity && batch.baseSequence < 0) {
      batch.stamp(identity.producerId, identity.epoch, state.takeSequence(identity, batch.recordCount), transactions !== undefined, finishing);
    } else {
      batch.finish(undefined, finishing);
    }
    // Compressed, it would copy the plain bytes only split() needs, for every partly
    // filled batch: measurable in the lz4 benchmark, and kept out.
    if (options.codecId === 0) completion.compact(batch, reserve);
    state.inFlight++;
    batch.inFlight = true;
    chosen.push([state, batch]);
  }

  /** The request's place in its broker's write order: `before` to wait for, `written` to call once queued. */
  #writeTurn(link: BrokerLink): WriteTurn {
    const before = link.lastWrite;
    let written!: () => void;
    const mine = new Promise<void>((resolve) => (written = resolve));
    link.lastWrite = mine;
    void mine.then(() => {
      if (link.lastWrite === mine) link.lastWrite = undefined;
    });
    return { before, written };
  }

  /**
   * Sends `chosen` as one request in the link's write order. Only compression on the
   * thread pool needs an async function (#prepare); lz4 and snappy batches up to 1 MiB are
   * compressed here, and the write and its answer are plain calls: async functions were
   * the costliest TurboFan compiles of the request path, and they compiled late, as they
   * run once per request or batch.
   */
  #send(link: BrokerLink, version: number, chosen: Chosen, turn: WriteTurn): void {
    if (this.#ctx.options.codecId !== 0) {
      try {
        if (!this.#compressNow(chosen)) return void this.#prepare(link, version, chosen, turn);
        if (this.#nothingLeft(link, chosen, turn)) return;
        this.#fitRequest(version, chosen);
      } catch (err) {
        this.#notSent(link, chosen, turn, err as Error);
        return;
      }
    }
    if (turn.before) void turn.before.then(() => this.#write(link, version, chosen, turn));
    else this.#write(link, version, chosen, turn);
  }

  /**
   * Compresses on this thread what the codec compresses on this thread anyway (lz4 and
   * snappy up to 1 MiB); false when a batch needs the async path (#prepare). A batch that
   * fails to compress leaves `chosen` and fails alone (#uncompressible).
   */
  #compressNow(chosen: Chosen): boolean {
    const { options, completion } = this.#ctx;
    for (let i = 0; i < chosen.length; i++) {
      const [s, b] = chosen[i]!;
      // Compressed once; a retry resends the same compressed bytes.
      if (!b.bytes || isCompressedBatch(b.bytes)) continue;
      let compressed: Buffer | undefined;
      try {
        compressed = compressBatchSync(b.bytes, options.codecId, compressSync);
      } catch (err) {
        chosen.splice(i--, 1);
        this.#uncompressible(s, b, err as Error);
        continue;
      }
      if (!compressed) return false;
      completion.compressed(b, compressed);
    }
    return true;
  }

  /** #send for batches the codec compresses on the thread pool (gzip, zstd, big lz4 or snappy batches). */
  async #prepare(link: BrokerLink, version: number, chosen: Chosen, turn: WriteTurn): Promise<void> {
    const { options, completion } = this.#ctx;
    try {
      for (let i = 0; i < chosen.length; i++) {
        const [s, b] = chosen[i]!;
        if (!b.bytes || isCompressedBatch(b.bytes)) continue;
        let compressed: Buffer;
        try {
          compressed = await compressBatch(b.bytes, options.codecId, compress);
        } catch (err) {
          chosen.splice(i--, 1);
          this.#uncompressible(s, b, err as Error);
          continue;
        }
        completion.compressed(b, compressed);
      }
      if (this.#nothingLeft(link, chosen, turn)) return;
      this.#fitRequest(version, chosen);
      if (turn.before) await turn.before;
    } catch (err) {
      this.#notSent(link, chosen, turn, err as Error);
      return;
    }
    this.#write(link, version, chosen, turn);
  }

  /**
   * A batch that could not be compressed: it was never sent, and the same bytes would fail
   * again, so it fails alone; the rest of its request goes on without it (one of them may
   * be a retry already in the log: it must not fail for another batch's sake). Its
   * sequences are given back when no later batch of the partition took any, so the next
   * batch does not leave a gap the broker would refuse.
   */
  #uncompressible(state: PartitionState, batch: ProducerBatch, err: Error): void {
    this.#landed(state, batch);
    state.giveBackSequences(batch);
    this.#ctx.completion.batchFailed(state, batch, err);
    this.ready(state);
  }

  /**
   * Takes out of a request about to be written what changed while it waited (for its
   * compression on the thread pool, or for the request before it): a batch whose partition
   * was given new sequences goes back to its queue, to be stamped again, rather than go
   * with the stamp it lost (the broker would refuse it, for good); a batch that ended
   * meanwhile without ever being sent (close(), a failed transaction) is not sent now, as
   * its records were told.
   */
  #withdrawStale(chosen: Chosen): void {
    const sequenced = this.#ctx.identity !== undefined;
    for (let i = 0; i < chosen.length; i++) {
      const [s, b] = chosen[i]!;
      if (b.done ? b.attempts > 0 : !sequenced || b.baseSequence >= 0) continue;
      chosen.splice(i--, 1);
      this.#landed(s, b);
      this.ready(s);
    }
  }

  /** Nothing is left of the request (every batch failed to compress, or was withdrawn): it ends before it started. */
  #nothingLeft(link: BrokerLink, chosen: Chosen, turn: WriteTurn): boolean {
    if (chosen.length > 0) return false;
    try {
      this.#requestDone(link);
    } finally {
      this.#over(link, chosen, turn);
    }
    return true;
  }

  /** Batches that could not be made into a request (compressed, encoded) fail as they are. */
  #notSent(link: BrokerLink, chosen: Chosen, turn: WriteTurn, err: Error): void {
    try {
      this.#requestDone(link);
      for (const [s, b] of chosen) {
        this.#landed(s, b);
        this.#ctx.completion.batchFailed(s, b, err);
      }
    } finally {
      this.#over(link, chosen, turn);
    }
  }

  #write(link: BrokerLink, version: number, chosen: Chosen, turn: WriteTurn): void {
    const { options, metadata, completion, transactions } = this.#ctx;
    const channel = link.channel;
    if (!channel || !channel.isOpen) {
      // Never written: the batches simply go again, with what they were (not) before.
      try {
        this.#requestDone(link);
        metadata.invalidate();
        for (const [s, b] of chosen) this.#landed(s, b);
      } finally {
        this.#over(link, chosen, turn);
      }
      return;
    }
    this.#withdrawStale(chosen);
    if (this.#nothingLeft(link, chosen, turn)) return;
    let trace: ProduceTraceContext | undefined;
    let requestId = 0;
    let answer: Promise<ProduceResponse> | undefined;
    try {
      const topics = new Map<string, Array<{ index: number; records: Buffer }>>();
      let bytes = 0;
      for (const [s, b] of chosen) {
        let list = topics.get(s.topic);
        if (!list) topics.set(s.topic, (list = []));
        list.push({ index: s.partition, records: b.bytes! });
        bytes += b.bytes!.length;
        b.attempts++;
      }
      const body = {
        transactionalId: transactions?.transactionalId ?? null,
        acks: options.acks,
        timeoutMs: options.requestTimeoutMs,
        topicData: [...topics].map(([name, partitionData]) => ({ name, topicId: metadata.topicId(name), partitionData })),
      };
      // Counted before the trace starts: the KafkaJS events adapter tells producers apart by it.
      completion.counters.requestsSent++;
      completion.counters.bytesSent += bytes;
      requestId = this.#publishRequest(link, version, chosen, bytes);
      trace = requestId > 0 ? this.#traceRequest(link, version, chosen, bytes, requestId) : undefined;
      answer = channel.send(Produce, version, body, { expectResponse: options.acks !== 0 });
    } catch (err) {
      // Not encodable (a bug): never written, and the same batches would fail again. It
      // stays counted in requestsSent: the KafkaJS events adapter takes a rise in that
      // count for a new request, and a count taken back would hide the next one.
      if (trace) {
        trace.error = err as Error;
        PRODUCE_CHANNEL.error.publish(trace);
        PRODUCE_CHANNEL.end.publish(trace);
      }
      this.#notSent(link, chosen, turn, err as Error);
      return;
    }
    // In the connection's queue now: the next request may follow.
    turn.written();
    if (trace) PRODUCE_CHANNEL.end.publish(trace);
    answer.then(
      (response) => this.#answered(link, version, chosen, trace, requestId, response),
      (err: unknown) => this.#unanswered(link, chosen, trace, err as Error),
    );
  }

  #answered(link: BrokerLink, version: number, chosen: Chosen, trace: ProduceTraceContext | undefined, requestId: number, response: ProduceResponse): void {
    try {
      this.#requestDone(link);
      if (trace) trace.throttleTimeMs = response?.throttleTimeMs;
      this.#traced(trace, () => {
        if (this.#ctx.options.acks === 0) for (const [s, b] of chosen) this.#delivered(s, b, UNKNOWN_ANSWER);
        else this.#onResponse(link, version, chosen, response, requestId);
      });
    } finally {
      this.#requestOver(link, chosen);
    }
  }

  #unanswered(link: BrokerLink, chosen: Chosen, trace: ProduceTraceContext | undefined, err: Error): void {
    try {
      if (trace) {
        trace.error = err;
        PRODUCE_CHANNEL.error.publish(trace);
      }
      this.#traced(trace, () => this.#requestFailed(link, chosen, err));
    } finally {
      this.#requestOver(link, chosen);
    }
  }

  /**
   * A request that was never written is over: the next one may be written once the one
   * before this is (not at once: that one may still be compressing on the thread pool,
   * and requests to a broker must go in the order their sequences were taken).
   */
  #over(link: BrokerLink, chosen: Chosen, turn: WriteTurn): void {
    if (turn.before) void turn.before.then(turn.written);
    else turn.written();
    this.#requestOver(link, chosen);
  }

  /**
   * The request's id when anyone listens to its events (0 otherwise), published on the plain
   * request channel. Taken whenever the plain response channel or the tracing channel has
   * subscribers too, so the answer's message carries the id its request's did.
   */
  #publishRequest(link: BrokerLink, version: number, chosen: Chosen, bytes: number): number {
    if (!REQUEST_CHANNEL.hasSubscribers && !RESPONSE_CHANNEL.hasSubscribers && !traced(PRODUCE_CHANNEL)) return 0;
    const requestId = newRequestId();
    if (REQUEST_CHANNEL.hasSubscribers) {
      const message: ProduceRequestMessage = { broker: link.address, nodeId: link.nodeId, version, acks: this.#ctx.options.acks, partitions: chosen.length, bytes, requestId };
      REQUEST_CHANNEL.publish(message);
    }
    return requestId;
  }

  /** Publishes the request's start; its context when the tracing channel has subscribers. */
  #traceRequest(link: BrokerLink, version: number, chosen: Chosen, bytes: number, requestId: number): ProduceTraceContext | undefined {
    if (!traced(PRODUCE_CHANNEL)) return undefined;
    const { acks } = this.#ctx.options;
    const partitions = chosen.length;
    const records = chosen.reduce((n, [, b]) => n + b.liveCount, 0);
    const trace: ProduceTraceContext = { requestId, broker: link.address, nodeId: link.nodeId, version, acks, partitions, records, bytes, throttleTimeMs: undefined, error: undefined };
    PRODUCE_CHANNEL.start.publish(trace);
    return trace;
  }

  /** Runs what handles a request's outcome between its asyncStart and asyncEnd events. */
  #traced(trace: ProduceTraceContext | undefined, handle: () => void): void {
    if (!trace) return handle();
    PRODUCE_CHANNEL.asyncStart.publish(trace);
    try {
      handle();
    } finally {
      PRODUCE_CHANNEL.asyncEnd.publish(trace);
    }
  }

  /**
   * Incompressible data can come out of a codec a few bytes bigger than it went in: if
   * that tips the request over maxRequestSize, the last batches wait for the next one.
   * Each is the next of its partition to go, so sequences stay in order.
   */
  #fitRequest(version: number, chosen: Chosen): void {
    const { options, transactions } = this.#ctx;
    const fits = (): boolean => {
      const size = new ProduceRequestSize(version, options.clientId, transactions?.transactionalId ?? null);
      for (const [s, b] of chosen) size.add(s.topic, b.sizeInBytes);
      return size.bytes <= options.maxRequestSize;
    };
    while (chosen.length > 1 && !fits()) {
      const [state, batch] = chosen.pop()!;
      this.#landed(state, batch);
      // Left out of `chosen`, so the end of this request would not name it.
      this.ready(state);
    }
  }

  #requestDone(link: BrokerLink): void {
    link.inFlight--;
    this.#ctx.completion.counters.requestsInFlight--;
  }

  #onResponse(link: BrokerLink, version: number, chosen: Chosen, response: ProduceResponse, requestId: number): void {
    const { metadata, clock } = this.#ctx;
    const now = clock.now();
    if (link.noteThrottle(Produce, version, response.throttleTimeMs, now)) {
      debug('broker %s throttled us for %d ms', link.address, response.throttleTimeMs);
    }
    if (RESPONSE_CHANNEL.hasSubscribers) {
      const message: ProduceResponseMessage = { broker: link.address, nodeId: link.nodeId, version, throttleTimeMs: response.throttleTimeMs, requestId };
      RESPONSE_CHANNEL.publish(message);
    }
    const endpoints = new Map(response.nodeEndpoints.map((e) => [e.nodeId, { nodeId: e.nodeId, host: e.host, port: e.port }]));
    const unanswered = new Set(chosen.map(([s]) => s));
    const byTopic = new Map<string, Map<number, [PartitionState, ProducerBatch]>>();
    for (const [s, b] of chosen) {
      const key = version >= 13 ? (metadata.topicId(s.topic) ?? s.topic) : s.topic;
      let m = byTopic.get(key);
      if (!m) byTopic.set(key, (m = new Map()));
      m.set(s.partition, [s, b]);
    }
    for (const t of response.responses) {
      const mine = byTopic.get(version >= 13 ? t.topicId : t.name);
      for (const p of t.partitionResponses) {
        const entry = mine?.get(p.index);
        if (!entry || !unanswered.has(entry[0])) continue;
        unanswered.delete(entry[0]);
        const [s, b] = entry;
        const taken = p.errorCode === ErrorCode.NONE || p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER;
        if (taken && b.baseSequence >= 0) s.noteAcknowledged(b.producerId, now);
        if (p.errorCode === ErrorCode.NONE) {
          this.#delivered(s, b, p);
          continue;
        }
        const leader = p.currentLeader;
        if (leader.leaderId >= 0) metadata.noteLeader(s.topic, s.partition, leader.leaderId, leader.leaderEpoch, endpoints.get(leader.leaderId));
        const which = `${s.name}, a batch of ${b.sizeInBytes} bytes with ${b.recordCount} record${b.recordCount === 1 ? '' : 's'}`;
        const detail = [which, p.errorMessage, ...p.recordErrors.map((e) => `record ${e.batchIndex}: ${e.batchIndexErrorMessage}`)].filter(Boolean).join('; ');
        const answer = new BrokerError(p.errorCode, { broker: link.address, api: `Produce v${version}`, detail: detail || null });
        this.#batchError(s, b, topicRefusal(s.topic, p.errorCode, answer) ?? answer);
      }
    }
    for (const [s, b] of chosen) {
      if (unanswered.has(s)) this.#batchError(s, b, new ProtocolError(`Produce v${version} response from ${link.address} did not answer for ${s.name}`));
    }
  }

  /** The batch's request is over, one way or another. */
  #landed(state: PartitionState, b: ProducerBatch): void {
    if (!b.inFlight) return;
    b.inFlight = false;
    state.inFlight--;
  }

  #delivered(state: PartitionState, b: ProducerBatch, answer: BatchAnswer): void {
    this.#landed(state, b);
    if (b.done) return; // failed by close() while its request was out
    if (b.baseSequence >= 0) earlierAreWritten(state, b, this.#outcomes);
    if (BATCH_CHANNEL.hasSubscribers) {
      const message: ProduceBatchMessage = { topic: state.topic, partition: state.partition, records: b.liveCount, bytes: b.sizeInBytes, attempts: b.attempts, baseOffset: answer.baseOffset };
      BATCH_CHANNEL.publish(message);
    }
    this.#ctx.completion.delivered(state, b, answer);
  }

  /** A lost connection or a broken answer: every batch it carried fails the same way. */
  #requestFailed(link: BrokerLink, chosen: Chosen, err: Error): void {
    this.#requestDone(link);
    this.#ctx.metadata.invalidate();
    debug('produce request to %s failed: %s', link.address, err.message);
    for (const [s, b] of chosen) this.#batchError(s, b, err);
  }

  /** One batch's attempt failed: in the log after all, retry, split, re-sequence, or fail for good. */
  #batchError(state: PartitionState, b: ProducerBatch, err: Error): void {
    const { metadata, completion, transactions, identity, clock } = this.#ctx;
    this.#landed(state, b);
    if (b.done) return;
    const now = clock.now();
    const code = err instanceof BrokerError || err instanceof TopicError ? err.errorCode : undefined;
    if (err instanceof BrokerError && err.refreshMetadata) metadata.invalidate();
    if (b.written || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      // In the log already (an earlier attempt whose answer was lost): success, offset unknown.
      this.#delivered(state, b, UNKNOWN_ANSWER);
      return;
    }
    if (b.overtaken) return completion.batchFailed(state, b, b.overtaken);
    // No answer, or written by the leader but not by enough replicas: it may well be in the log.
    if (code === undefined || code === ErrorCode.REQUEST_TIMED_OUT || code === ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND) b.maybeWritten = true;
    let retriable = !(err instanceof KafkaWireError) || err.retriable;
    if (code !== undefined && b.baseSequence >= 0 && identity && isSequenceRefusal(code, transactions !== undefined)) {
      // Expected after an earlier batch of this partition failed or is unresolved: its
      // retry comes first. Otherwise the sequencer decides what the refusal means.
      if (state.oldestUnresolved() === b) {
        return refused(state, b, err, identity, transactions !== undefined, now + backoffDelay(this.#backoff, b.attempts), this.#outcomes);
      }
      retriable = true;
    } else if (transactions && code !== undefined) {
      const refusal = transactions.refusedBatchError(code, err);
      if (refusal) return completion.batchFailed(state, b, refusal);
    }
    if ((code === ErrorCode.MESSAGE_TOO_LARGE || code === ErrorCode.RECORD_LIST_TOO_LARGE) && b.recordCount > 1) return this.#split(state, b);
    if (retriable && now < b.deadline) {
      b.retryAt = now + backoffDelay(this.#backoff, b.attempts);
      completion.counters.retries++;
      debug('%s: %s, retry %d in %d ms', state.name, err.message, b.attempts, b.retryAt - now);
      return;
    }
    completion.batchFailed(state, b, err);
  }

  /** The broker's limit for this topic is below our batch: halve it and try again. */
  #split(state: PartitionState, b: ProducerBatch): void {
    if (b.plain || b.bytes === undefined || !isCompressedBatch(b.bytes)) return this.#replaceWithHalves(state, b, b.split(this.#ctx.clock.now()));
    // Compressed, its records are read back from the compressed bytes first. It waits meanwhile
    // (no retry before that), and whatever ends it in between (its deadline, close) wins.
    b.retryAt = Number.POSITIVE_INFINITY;
    const { completion } = this.#ctx;
    decodeRecordBatches(b.bytes, { decompress, verifyCrc: false }).then(
      (decoded) => {
        if (b.done || !state.batches.includes(b)) return;
        this.#replaceWithHalves(state, b, b.split(this.#ctx.clock.now(), decoded.batches[0]!.records));
        this.wake();
      },
      (err: unknown) => {
        if (!b.done) completion.batchFailed(state, b, err as Error);
        // The batches behind it may go now.
        this.ready(state);
      },
    );
  }

  #replaceWithHalves(state: PartitionState, b: ProducerBatch, halves: [ProducerBatch, ProducerBatch]): void {
    if (b.baseSequence >= 0) {
      // The halves take over the refused batch's sequences, so every later batch keeps its own.
      const transactional = this.#ctx.transactions !== undefined;
      halves[0].stamp(b.producerId, b.producerEpoch, b.baseSequence, transactional);
      halves[1].stamp(b.producerId, b.producerEpoch, addSequence(b.baseSequence, halves[0].recordCount), transactional);
    }
    this.#ctx.partitions.replace(state, b, halves);
    this.#ctx.completion.releaseBuffer(b);
    this.#ctx.completion.counters.retries++;
    debug('%s: batch of %d records too large, split', state.name, b.recordCount);
  }
}
