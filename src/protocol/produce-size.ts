/**
 * Exact size of a Produce request frame, grown one batch at a time, so that the sender
 * can fill a request up to `maxRequestSize` and never past it (the overflow accounting
 * Sarama's produceSet got wrong). Tested against the encoder byte for byte.
 */
import { Produce } from './apis/produce.js';
import { sizeOfNullableString, sizeOfUvarint } from './sizes.js';

export class ProduceRequestSize {
  readonly flexible: boolean;
  readonly byTopicId: boolean;
  #size: number;
  #topics = 0;
  readonly #partitions = new Map<string, number>();

  constructor(version: number, clientId: string | null, transactionalId: string | null) {
    this.flexible = Produce.isFlexible(version);
    this.byTopicId = version >= 13;
    const header = 2 + 2 + 4 + sizeOfNullableString(clientId) + (this.flexible ? 1 : 0);
    const txn = this.flexible ? (transactionalId === null ? 1 : this.#compactLength(Buffer.byteLength(transactionalId))) : sizeOfNullableString(transactionalId);
    // size prefix, header, transactional_id, acks, timeout_ms, topic_data count, body tags
    this.#size = 4 + header + txn + 2 + 4 + this.#count(0) + (this.flexible ? 1 : 0);
  }

  get bytes(): number {
    return this.#size;
  }

  #count(n: number): number {
    return this.flexible ? sizeOfUvarint(n + 1) : 4;
  }

  #compactLength(n: number): number {
    return sizeOfUvarint(n + 1) + n;
  }

  /** What adding one partition's batch of `batchBytes` to `topic` would add. */
  growth(topic: string, batchBytes: number): number {
    const partitions = this.#partitions.get(topic);
    let n = 4 + (this.flexible ? this.#compactLength(batchBytes) + 1 : 4 + batchBytes);
    if (partitions === undefined) {
      const name = this.byTopicId ? 16 : this.flexible ? this.#compactLength(Buffer.byteLength(topic)) : 2 + Buffer.byteLength(topic);
      n += name + this.#count(1) + (this.flexible ? 1 : 0);
      n += this.#count(this.#topics + 1) - this.#count(this.#topics);
    } else {
      n += this.#count(partitions + 1) - this.#count(partitions);
    }
    return n;
  }

  add(topic: string, batchBytes: number): void {
    const grow = this.growth(topic, batchBytes);
    const partitions = this.#partitions.get(topic);
    if (partitions === undefined) this.#topics++;
    this.#partitions.set(topic, (partitions ?? 0) + 1);
    this.#size += grow;
  }
}
