/**
 * The state a scripted cluster keeps behind its answers: per partition a log and each
 * producer's last batches (Kafka 4.x idempotence), and per transactional id a
 * coordinator's view of its transaction (transactions v1).
 *
 * Sequence rules, as ProducerAppendInfo and UnifiedLog apply them (and as
 * test/helpers/model-broker.ts does over TCP):
 *   - a producer the partition has no state for may start at any sequence;
 *   - an older epoch is INVALID_PRODUCER_EPOCH; a newer one must start at sequence 0;
 *   - a batch matching one of the producer's last five is a duplicate: answered with its
 *     original offset, not appended;
 *   - otherwise the first sequence must follow the last one (wrapping after int32 max),
 *     or the answer is OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { RecordBatch } from '../../src/protocol/records/index.js';

const MAX_SEQUENCE = 0x7fffffff;
/** Kafka remembers this many batches per producer and partition. */
const REMEMBERED_BATCHES = 5;

/** How a transaction's records read: committed ones only under read_committed. */
export interface TxnMark {
  status: 'open' | 'committed' | 'aborted';
}

export interface LogEntry {
  offset: bigint;
  key: string | null;
  value: string | null;
  producerId: bigint;
  producerEpoch: number;
  /** The record's own sequence; -1 for a producer without idempotence. */
  sequence: number;
  /** Set on records of a transaction. */
  txn: TxnMark | undefined;
  /** Set on transaction markers, which take an offset but hold no record. */
  control: 'commit' | 'abort' | undefined;
}

/** A producer's epoch and its last batches on a partition (oldest first, at most REMEMBERED_BATCHES). */
type ProducerState = { epoch: number; batches: Array<{ firstSeq: number; lastSeq: number; offset: bigint }> };

export interface AppendResult {
  errorCode: number;
  baseOffset: bigint;
  duplicate: boolean;
}

export class PartitionLog {
  readonly entries: LogEntry[] = [];
  readonly #producers = new Map<bigint, ProducerState>();
  /** Batches answered as duplicates; a test may expect some after a lost answer. */
  duplicates = 0;
  outOfOrder = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get nextOffset(): bigint {
    return BigInt(this.entries.length);
  }

  /** Values of the data records, in log order; `committedOnly` is read_committed (open transactions hidden). */
  values(committedOnly = false): Array<string | null> {
    return this.entries.filter((e) => !e.control && (!committedOnly || !e.txn || e.txn.status === 'committed')).map((e) => e.value);
  }

  /** The epoch this partition knows for `producerId`, or undefined. */
  epochOf(producerId: bigint): number | undefined {
    return this.#producers.get(producerId)?.epoch;
  }

  /** Checks `batch` against the producer's state, then appends it unless it is refused or a duplicate. */
  append(batch: RecordBatch, txn: TxnMark | undefined): AppendResult {
    const refused = (errorCode: number): AppendResult => ({ errorCode, baseOffset: -1n, duplicate: false });
    const count = batch.records.length;
    const firstSeq = batch.baseSequence;
    const idempotent = batch.producerId >= 0n && firstSeq >= 0;
    const lastSeq = firstSeq > MAX_SEQUENCE - (count - 1) ? count - 2 - (MAX_SEQUENCE - firstSeq) : firstSeq + count - 1;
    const state = idempotent ? this.#producers.get(batch.producerId) : undefined;
    if (state) {
      if (batch.producerEpoch < state.epoch) return refused(ErrorCode.INVALID_PRODUCER_EPOCH);
      if (batch.producerEpoch === state.epoch) {
        const dup = state.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
        if (dup) {
          this.duplicates++;
          return { errorCode: ErrorCode.NONE, baseOffset: dup.offset, duplicate: true };
        }
        const last = state.batches.at(-1)?.lastSeq;
        const expected = last === undefined ? 0 : last === MAX_SEQUENCE ? 0 : last + 1;
        if (firstSeq !== expected) {
          this.outOfOrder++;
          return refused(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
      } else if (firstSeq !== 0) {
        this.outOfOrder++;
        return refused(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      }
    }
    const baseOffset = this.nextOffset;
    batch.records.forEach((r, i) => {
      this.entries.push({
        offset: baseOffset + BigInt(i),
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        sequence: idempotent ? (firstSeq + i) % (MAX_SEQUENCE + 1) : -1,
        txn,
        control: undefined,
      });
    });
    if (idempotent) {
      const next = state && state.epoch === batch.producerEpoch ? state : { epoch: batch.producerEpoch, batches: [] };
      next.batches = [...next.batches, { firstSeq, lastSeq, offset: baseOffset }].slice(-REMEMBERED_BATCHES);
      this.#producers.set(batch.producerId, next);
    }
    return { errorCode: ErrorCode.NONE, baseOffset, duplicate: false };
  }

  /**
   * A transaction marker. One at a newer epoch (another producer took the transactional
   * id over) resets the producer's sequences: its next batch must start at 0.
   */
  marker(producerId: bigint, epoch: number, kind: 'commit' | 'abort'): void {
    this.entries.push({ offset: this.nextOffset, key: null, value: null, producerId, producerEpoch: epoch, sequence: -1, txn: undefined, control: kind });
    const state = this.#producers.get(producerId);
    if (!state || epoch > state.epoch) this.#producers.set(producerId, { epoch, batches: [] });
  }
}

/** The coordinator's view of one transactional id. */
export interface TransactionRecord {
  readonly transactionalId: string;
  producerId: bigint;
  epoch: number;
  state: 'Empty' | 'Ongoing' | 'CompleteCommit' | 'CompleteAbort';
  /** Partitions added to the ongoing transaction. */
  readonly partitions: Set<PartitionLog>;
  /** Groups added with AddOffsetsToTxn, and the offsets committed in the transaction. */
  readonly groups: Set<string>;
  readonly pendingOffsets: Map<string, Map<string, bigint>>;
  /** Shared by every record of the ongoing transaction, so ending it settles them all. */
  mark: TxnMark;
  /** Ended transactions, for tests: 'commit' or 'abort', in order. */
  readonly outcomes: Array<'commit' | 'abort'>;
}

export function newTransaction(transactionalId: string, producerId: bigint): TransactionRecord {
  return {
    transactionalId,
    producerId,
    epoch: 0,
    state: 'Empty',
    partitions: new Set(),
    groups: new Set(),
    pendingOffsets: new Map(),
    mark: { status: 'open' },
    outcomes: [],
  };
}

/**
 * Ends the ongoing transaction: markers on its partitions, offsets to their groups on
 * commit. `markerEpoch` is the epoch the markers carry (higher when a new producer fences).
 */
export function endTransaction(txn: TransactionRecord, commit: boolean, offsets: Map<string, Map<string, bigint>>, markerEpoch = txn.epoch): void {
  const kind = commit ? 'commit' : 'abort';
  for (const p of txn.partitions) p.marker(txn.producerId, markerEpoch, kind);
  if (commit) {
    for (const [group, byPartition] of txn.pendingOffsets) {
      let committed = offsets.get(group);
      if (!committed) offsets.set(group, (committed = new Map()));
      for (const [tp, offset] of byPartition) committed.set(tp, offset);
    }
  }
  txn.mark.status = commit ? 'committed' : 'aborted';
  txn.mark = { status: 'open' };
  txn.partitions.clear();
  txn.groups.clear();
  txn.pendingOffsets.clear();
  txn.state = commit ? 'CompleteCommit' : 'CompleteAbort';
  txn.outcomes.push(kind);
}
