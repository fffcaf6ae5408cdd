/**
 * Limits and refusals: a batch of exactly max.message.bytes is taken and one byte more is
 * MESSAGE_TOO_LARGE; zstd below Produce v7, a corrupted CRC, an acks of 2, a topic or
 * topic id the broker does not know are refused. Which error code a refusal carries is
 * compared with Apache Kafka's ("differs"); taking what must be refused is a failure.
 */
import { Produce } from '../../protocol/apis/index.js';
import { CODEC_ID, compress, isCodecAvailable } from '../../protocol/compression/index.js';
import { compressBatch, encodeRecordBatch, sizeOfRecordBatch, type RecordInput } from '../../protocol/records/index.js';
import { commonVersions } from '../admin.js';
import type { Category, Check, CheckContext } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import type { CreatedTopic, Session } from '../session.js';
import { produceBatch, type PartitionAnswer } from '../wire-ops.js';
import { ZSTD_FROM } from './produce.js';

const LIMIT = 4096;
const TOPIC_IDS_FROM = 13;
/** Byte 17 is the first of the CRC (after base offset 8, length 4, leader epoch 4, magic 1). */
const CRC_AT = 17;

/** The answer must refuse; which code it refuses with is compared with Kafka's. */
function expectRefusal(t: CheckContext, answer: PartitionAnswer | null, kafkaSays: string): void {
  const name = errorName(answer!.errorCode);
  if (name === 'NONE') throw new CheckFailure(`taken, where Apache Kafka refuses it with ${kafkaSays}`, [`- errorCode: "${kafkaSays}"`, '+ errorCode: "NONE"']);
  t.observe('errorCode', name);
}

function oneRecord(tag: string): Buffer {
  return encodeRecordBatch([{ key: 'k', value: tag }]);
}

export const limitsCategory: Category = {
  name: 'limits',
  async plan(session, broker) {
    let small: Promise<CreatedTopic> | undefined;
    const limited = (): Promise<CreatedTopic> => (small ??= session.createTopic('limits', { configs: { 'max.message.bytes': String(LIMIT) } }));
    const below = commonVersions(broker, Produce).filter((v) => v < ZSTD_FROM);
    const zstd = await isCodecAvailable('zstd');
    const checks: Check[] = [...maxMessageBytes(session, limited)];
    if (below.length === 0) checks.push({ id: 'limits/zstd-below-v7', title: 'zstd below Produce v7 is refused', notOffered: `no Produce version below v${ZSTD_FROM} is offered`, run: async () => {} });
    for (const version of below) {
      checks.push({
        id: `limits/zstd-below-v7/v${version}`,
        title: `a zstd batch at Produce v${version} is refused (UNSUPPORTED_COMPRESSION_TYPE)`,
        ...(zstd ? {} : { skipped: 'zstd needs the optional package @mongodb-js/zstd, which is not installed' }),
        async run(t) {
          const batch = await compressBatch(oneRecord('zstd'), CODEC_ID.zstd, compress);
          expectRefusal(t, await produceBatch(session, await limited(), 0, batch, { version }), 'UNSUPPORTED_COMPRESSION_TYPE');
        },
      });
    }
    checks.push(
      {
        id: 'limits/corrupt-crc',
        title: 'a batch whose CRC does not match is refused (CORRUPT_MESSAGE)',
        async run(t) {
          const batch = oneRecord('corrupt');
          batch[CRC_AT] = batch[CRC_AT]! ^ 0xff;
          expectRefusal(t, await produceBatch(session, await limited(), 0, batch), 'CORRUPT_MESSAGE');
        },
      },
      {
        id: 'limits/bad-acks',
        title: 'acks=2 is refused (INVALID_REQUIRED_ACKS)',
        async run(t) {
          expectRefusal(t, await produceBatch(session, await limited(), 0, oneRecord('acks'), { acks: 2 }), 'INVALID_REQUIRED_ACKS');
        },
      },
      ...unknownTopic(session, broker.requireVersion(Produce)),
    );
    return checks;
  },
};

function maxMessageBytes(session: Session, limited: () => Promise<CreatedTopic>): Check[] {
  const ts = Date.now();
  const withValue = (n: number): RecordInput[] => [{ key: 'k', value: Buffer.alloc(n, 1), timestamp: ts }];
  let n = 0;
  while (sizeOfRecordBatch(withValue(n + 1), ts) <= LIMIT) n++;
  const fits = encodeRecordBatch(withValue(n), { timestamp: ts });
  const over = encodeRecordBatch(withValue(n + 1), { timestamp: ts });
  return [
    {
      id: 'limits/max-message-bytes/one-byte-over',
      title: `a batch of max.message.bytes + 1 (${over.length} bytes) is MESSAGE_TOO_LARGE`,
      async run(t) {
        const answer = await produceBatch(session, await limited(), 0, over);
        expectEqual('error code', errorName(answer!.errorCode), 'MESSAGE_TOO_LARGE');
        t.observe('errorCode', errorName(answer!.errorCode));
      },
    },
    {
      id: 'limits/max-message-bytes/at-limit',
      title: `a batch of exactly max.message.bytes (${fits.length} bytes) is taken`,
      async run(t) {
        const answer = await produceBatch(session, await limited(), 0, fits);
        expectEqual('error code', errorName(answer!.errorCode), 'NONE');
        t.observe('errorCode', errorName(answer!.errorCode));
      },
    },
  ];
}

function unknownTopic(session: Session, newest: number): Check[] {
  const missing: CreatedTopic = { name: session.topicName('never-created'), topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [] };
  const byId = {
    id: 'limits/unknown-topic-id',
    title: `Produce v${TOPIC_IDS_FROM} to a topic id the broker does not know is refused (UNKNOWN_TOPIC_ID)`,
    async run(t: CheckContext) {
      const answer = await produceBatch(session, missing, 0, oneRecord('unknown'), { version: newest, connection: await session.connection() });
      expectRefusal(t, answer, 'UNKNOWN_TOPIC_ID');
    },
  };
  return [
    {
      id: 'limits/unknown-topic',
      title: 'Produce to a topic the broker does not know is refused (UNKNOWN_TOPIC_OR_PARTITION)',
      async run(t) {
        const version = Math.min(newest, TOPIC_IDS_FROM - 1);
        const answer = await produceBatch(session, missing, 0, oneRecord('unknown'), { version, connection: await session.connection() });
        expectRefusal(t, answer, 'UNKNOWN_TOPIC_OR_PARTITION');
      },
    },
    newest >= TOPIC_IDS_FROM ? byId : { ...byId, notOffered: `Produce v${TOPIC_IDS_FROM} is not offered` },
  ];
}
