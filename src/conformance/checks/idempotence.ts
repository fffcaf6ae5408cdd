/**
 * Idempotence (KIP-98): batches in sequence are appended; a batch sent again is answered
 * as the original (not appended twice); a gap in the sequence is refused; a bumped epoch
 * starts again at sequence 0 and fences the old one. Each check has its own producer id
 * and partition. Whether the refusals are proven matters; their codes are compared.
 */
import { encodeRecordBatch } from '../../protocol/records/index.js';
import { initIdempotent } from '../admin.js';
import type { Category, Check, CheckContext } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import type { CreatedTopic, Session } from '../session.js';
import { produceBatch, type PartitionAnswer } from '../wire-ops.js';

interface Producer {
  /** Sends `count` records from `baseSequence`, at the producer's epoch plus `epochDelta`. */
  send(baseSequence: number, count: number, epochDelta?: number): Promise<PartitionAnswer>;
  /** The batch that send() last built, to send it again as is. */
  resend(): Promise<PartitionAnswer>;
}

async function newProducer(session: Session, topic: CreatedTopic, partition: number): Promise<Producer> {
  const identity = await initIdempotent(await session.leader(topic, partition));
  let last: Buffer | undefined;
  const sendBatch = async (batch: Buffer): Promise<PartitionAnswer> => (await produceBatch(session, topic, partition, batch))!;
  return {
    send(baseSequence, count, epochDelta = 0) {
      const records = Array.from({ length: count }, (_, i) => ({ key: null, value: `seq ${baseSequence + i}` }));
      last = encodeRecordBatch(records, { producerId: identity.producerId, producerEpoch: identity.producerEpoch + epochDelta, baseSequence });
      return sendBatch(last);
    },
    resend: () => sendBatch(last!),
  };
}

function expectAppended(what: string, answer: PartitionAnswer, offset: bigint): void {
  expectEqual(what, { errorCode: errorName(answer.errorCode), baseOffset: answer.baseOffset }, { errorCode: 'NONE', baseOffset: offset });
}

function expectRefused(t: CheckContext, key: string, answer: PartitionAnswer, kafkaSays: string): void {
  const name = errorName(answer.errorCode);
  if (name === 'NONE') throw new CheckFailure(`taken at offset ${answer.baseOffset}, where Apache Kafka refuses it with ${kafkaSays}`, [`- errorCode: "${kafkaSays}"`, '+ errorCode: "NONE"']);
  t.observe(key, name);
}

type Body = (p: Producer, t: CheckContext) => Promise<void>;

const CHECKS: Array<[string, string, Body]> = [
  [
    'in-sequence',
    'batches in sequence are appended in order',
    async (p) => {
      expectAppended('first batch (sequence 0)', await p.send(0, 3), 0n);
      expectAppended('second batch (sequence 3)', await p.send(3, 2), 3n);
    },
  ],
  [
    'duplicate',
    'a batch sent twice is answered with its first offset and appended once',
    async (p, t) => {
      expectAppended('first batch', await p.send(0, 3), 0n);
      const again = await p.resend();
      t.observe('errorCode', errorName(again.errorCode));
      if (again.errorCode === 0) expectEqual('offset of the duplicate (the original one)', again.baseOffset, 0n);
      expectAppended('next batch (the duplicate took no offsets)', await p.send(3, 1), 3n);
    },
  ],
  [
    'out-of-order',
    'a batch after a gap in the sequence is refused and not appended',
    async (p, t) => {
      expectAppended('first batch', await p.send(0, 3), 0n);
      expectRefused(t, 'errorCode', await p.send(10, 1), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      expectAppended('the batch in sequence after it', await p.send(3, 1), 3n);
    },
  ],
  [
    'epoch-bump',
    'a bumped epoch starts at sequence 0, and the old epoch is fenced',
    async (p, t) => {
      expectAppended('first batch', await p.send(0, 3), 0n);
      expectRefused(t, 'newEpochNotAtZero', await p.send(3, 1, 1), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      expectAppended('sequence 0 at the new epoch', await p.send(0, 1, 1), 3n);
      expectRefused(t, 'oldEpoch', await p.send(3, 1), 'INVALID_PRODUCER_EPOCH');
    },
  ],
];

export const idempotenceCategory: Category = {
  name: 'idempotence',
  async plan(session) {
    let topic: Promise<CreatedTopic> | undefined;
    const shared = (): Promise<CreatedTopic> => (topic ??= session.createTopic('idempotence', { partitions: CHECKS.length }));
    return CHECKS.map(([name, title, body], partition): Check => ({
      id: `idempotence/${name}`,
      title,
      async run(t) {
        const created = await shared();
        await body(await newProducer(session, created, partition), t);
      },
    }));
  },
};
