/**
 * Produce at every version both sides speak × every codec × acks 0, 1 and all: each
 * combination to its own partition of one topic, read back through Fetch and compared
 * record by record (keys, values, headers, CreateTime timestamps) and byte for byte; and
 * a LogAppendTime topic, whose batches the broker stamps with its own clock.
 */
import { Produce } from '../../protocol/apis/index.js';
import { CODEC_ID, compress, isCodecAvailable, type CompressionName } from '../../protocol/compression/index.js';
import { compressBatch, encodeRecordBatch } from '../../protocol/records/index.js';
import { commonVersions } from '../admin.js';
import type { Category, Check } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import { comparable, sampleRecords } from '../records.js';
import type { CreatedTopic, Session } from '../session.js';
import { fetchRecords, produceBatch, sameBytes } from '../wire-ops.js';

export const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
export const ACKS = [0, 1, -1] as const;
/** KIP-110: zstd batches need Produce v7 (the refusal below it is a `limits` check). */
export const ZSTD_FROM = 7;

const PACKAGES: Partial<Record<CompressionName, string>> = { snappy: 'snappy', lz4: 'lz4-napi', zstd: '@mongodb-js/zstd' };

export function acksName(acks: number): string {
  return acks === -1 ? 'all' : String(acks);
}

interface Combination {
  version: number;
  codec: CompressionName;
  acks: number;
}

export const produceCategory: Category = {
  name: 'produce',
  async plan(session, broker) {
    const combinations: Combination[] = [];
    for (const version of commonVersions(broker, Produce)) {
      for (const codec of CODECS) {
        if (codec === 'zstd' && version < ZSTD_FROM) continue;
        for (const acks of ACKS) combinations.push({ version, codec, acks });
      }
    }
    const available = new Map(await Promise.all(CODECS.map(async (c) => [c, await isCodecAvailable(c)] as const)));
    let topic: Promise<CreatedTopic> | undefined;
    const shared = (): Promise<CreatedTopic> => (topic ??= session.createTopic('produce', { partitions: combinations.length }));
    const checks: Check[] = combinations.map((c, partition) => ({
      id: `produce/v${c.version}/${c.codec}/acks=${acksName(c.acks)}`,
      title: `Produce v${c.version}, ${c.codec}, acks=${acksName(c.acks)}: read back identical`,
      ...(available.get(c.codec) ? {} : { skipped: `${c.codec} needs the optional package ${PACKAGES[c.codec]}, which is not installed` }),
      run: async (t) => {
        const created = await shared();
        const records = sampleRecords(`v${c.version}-${c.codec}-${c.acks}`, Date.now());
        const batch = await compressBatch(encodeRecordBatch(records), CODEC_ID[c.codec], compress);
        const answer = await produceBatch(session, created, partition, batch, { version: c.version, acks: c.acks });
        if (answer) {
          expectEqual('answer', { errorCode: errorName(answer.errorCode), baseOffset: answer.baseOffset }, { errorCode: 'NONE', baseOffset: 0n });
          if (c.version >= 2) expectEqual('logAppendTimeMs (CreateTime topic)', answer.logAppendTimeMs, -1n);
        }
        const back = await fetchRecords(session, created, partition, { records: records.length }).catch((err: unknown) => {
          // An answer to acks=0 is read by the next request on the connection instead of its own.
          if (c.acks === 0 && err instanceof Error && /sent a response with correlation id/.test(err.message)) {
            throw new CheckFailure(`answered a Produce sent with acks=0, which Apache Kafka never answers (then: ${err.message})`, ['- answer to Produce acks=0: none', '+ answer to Produce acks=0: one']);
          }
          throw err;
        });
        const fetched = back.batches[0]!;
        expectEqual('batches read back', back.batches.length, 1);
        expectEqual('batch', { compression: fetched.attributes.compression, timestampType: fetched.attributes.timestampType }, { compression: c.codec, timestampType: 'CreateTime' });
        expectEqual('records', fetched.records.map(comparable), records.map(comparable));
        expectEqual('offsets', fetched.records.map((r) => r.offset), [0n, 1n, 2n, 3n]);
        t.observe('sameBytes', sameBytes(batch, back.raw[0]!));
      },
    }));
    checks.push(logAppendTime(session));
    return checks;
  },
};

function logAppendTime(session: Session): Check {
  return {
    id: 'produce/log-append-time',
    title: 'a LogAppendTime topic stamps batches with the broker\'s time and says so in the answer',
    async run(t) {
      const created = await session.createTopic('log-append-time', { configs: { 'message.timestamp.type': 'LogAppendTime' } });
      const records = sampleRecords('lat', Date.now() - 86_400_000);
      const before = Date.now();
      const answer = await produceBatch(session, created, 0, encodeRecordBatch(records));
      expectEqual('error code', errorName(answer!.errorCode), 'NONE');
      const stamped = Number(answer!.logAppendTimeMs);
      if (stamped < before - 60_000 || stamped > Date.now() + 60_000) throw new CheckFailure(`logAppendTimeMs ${stamped} is not the broker's time (now ${Date.now()})`);
      const back = await fetchRecords(session, created, 0, { records: records.length });
      const fetched = back.batches[0]!;
      expectEqual('batch', { timestampType: fetched.attributes.timestampType, maxTimestamp: fetched.maxTimestamp }, { timestampType: 'LogAppendTime', maxTimestamp: stamped });
      const withTime = records.map((r) => ({ ...comparable(r), timestamp: stamped }));
      expectEqual('records (timestamps are the append time)', fetched.records.map(comparable), withTime);
      t.observe('errorCode', errorName(answer!.errorCode));
    },
  };
}
