/**
 * What the broker's answers to an idempotent partition's batches mean: which earlier
 * batches a taken batch proves written, and when a refusal proves a gap. It decides; the
 * sender ends records through Completion.
 *
 * After a restart a broker remembers only the last batch of each producer, so retries of
 * the batches before it are refused as out of sequence although they are in the log. A
 * later batch of the same stamp decides: if the broker takes one (or knows it as a
 * duplicate), everything before it is written. Only when every batch sent after the
 * refused one is refused as well is the gap real; then none of them is in the log, and
 * they are sent again with new sequences: an idempotent producer restarts the partition's
 * sequences under a new epoch (KIP-360), a transaction fails them and must abort. Java
 * bumps at once and so writes such batches twice (as does librdkafka,
 * confluentinc/librdkafka#4953). The whole case table is in docs/delivery-semantics.md.
 */
import { debuglog } from 'node:util';
import { BrokerError } from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { sameStamp, type ProducerIdentity } from './idempotence.js';
import type { PartitionState } from './partition-state.js';
import type { ProducerBatch } from './producer-batch.js';

const debug = debuglog('kafka-wire');

export interface SequenceOutcomes {
  /** In the log (offset unknown). */
  written(state: PartitionState, batch: ProducerBatch): void;
  /** Can no longer be written in order, or (in a transaction) not at all. */
  failed(state: PartitionState, batch: ProducerBatch, err: Error): void;
  /** The batches were given new sequences and wait for `retryAt`. */
  resequenced(count: number): void;
}

/**
 * `taken` was written (or found a duplicate) under its stamp. A leader that holds our
 * producer state takes a sequence only right after the one before it, so every earlier
 * batch of that stamp is in the log too, whatever its own answer said or will say. (The
 * sender keeps one batch in flight to a leader not yet known to hold our state, which may
 * take any sequence.) An earlier batch the broker answered "not written" every time cannot
 * be in the log, though: then the leader had lost our state, and that batch fails rather
 * than being reported written or written out of order.
 */
export function earlierAreWritten(state: PartitionState, taken: ProducerBatch, out: SequenceOutcomes): void {
  // Usually `taken` is the oldest batch of its partition, and there is nothing to do.
  const i = state.batches.indexOf(taken);
  if (i <= 0) return;
  for (const x of state.batches.slice(0, i)) {
    if (x.done || x.baseSequence < 0 || !sameStamp(x, taken)) continue;
    if (x.maybeWritten) {
      if (x.inFlight) x.written = true;
      else out.written(state, x);
      continue;
    }
    const overtaken = new BrokerError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, {
      api: 'Produce',
      detail: `${state.name}: the leader wrote a later batch (sequence ${taken.baseSequence}) without this one (sequence ${x.baseSequence}), which it had refused: it lost this producer's state, and these records can no longer be written in order`,
    });
    if (x.inFlight) x.overtaken = overtaken;
    else out.failed(state, x, overtaken);
  }
}

/**
 * The oldest unresolved batch was refused as out of sequence (or for an unknown producer
 * or a stale epoch). If a later batch of its stamp is out, that one's answer decides;
 * otherwise the gap is real.
 */
export function refused(
  state: PartitionState,
  batch: ProducerBatch,
  err: Error,
  identity: ProducerIdentity,
  transactional: boolean,
  retryAt: number,
  out: SequenceOutcomes,
): void {
  batch.refused = true;
  const later = state.batches.slice(state.batches.indexOf(batch) + 1);
  if (later.some((x) => x.attempts > 0 && sameStamp(x, batch))) {
    debug('%s: sequence %d refused (%s); a later batch will tell whether it is written', state.name, batch.baseSequence, err.message);
    return;
  }
  const gap = state.batches.filter((x) => x.refused);
  if (transactional) {
    // A transaction cannot commit around the hole; its abort gets a new epoch.
    for (const x of gap) out.failed(state, x, err);
    return;
  }
  debug('%s: %d batch(es) from sequence %d are not in the log (%s): new sequences', state.name, gap.length, gap[0]!.baseSequence, err.message);
  state.forgetSequences();
  identity.moveOnFrom(batch);
  for (const x of state.batches) {
    if (x.baseSequence < 0) break;
    x.unstamp();
    x.retryAt = Math.max(x.retryAt, retryAt);
  }
  out.resequenced(gap.length);
}

/** Whether a refusal of this code on this batch is the sequence case above. */
export function isSequenceRefusal(code: number, transactional: boolean): boolean {
  if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) return true;
  // The leader has no state for our id and epoch: for an idempotent producer the same case;
  // for a transactional one, only the coordinator can help (after an abort).
  return !transactional && (code === ErrorCode.UNKNOWN_PRODUCER_ID || code === ErrorCode.INVALID_PRODUCER_EPOCH);
}
