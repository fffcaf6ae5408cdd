/**
 * Metadata at every version both sides speak: the same brokers, the topic with its
 * partitions and leaders, a cluster id from v2, the same topic id from v10; an unknown
 * topic reported and not created; a topic looked up by its id (v12+).
 */
import { Metadata } from '../../protocol/apis/index.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import { commonVersions } from '../admin.js';
import type { Category, Check } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import type { CreatedTopic, Session } from '../session.js';

const PARTITIONS = 2;
const TOPIC_ID_LOOKUP = 12;

export const metadataCategory: Category = {
  name: 'metadata',
  async plan(session, broker) {
    let topic: Promise<CreatedTopic> | undefined;
    const shared = (): Promise<CreatedTopic> => (topic ??= session.createTopic('metadata', { partitions: PARTITIONS }));
    const versions = commonVersions(broker, Metadata);
    const checks: Check[] = versions.map((v) => ({
      id: `metadata/v${v}`,
      title: `Metadata v${v} describes a topic of ${PARTITIONS} partitions`,
      async run(t) {
        const created = await shared();
        const response = await session.call(await session.connection(), Metadata, v, { topics: [{ name: created.name }], ...(v >= 4 ? { allowAutoTopicCreation: false } : {}) });
        if (response.brokers.length === 0) throw new CheckFailure('no brokers listed');
        const found = response.topics.find((x) => x.name === created.name);
        if (!found) throw new CheckFailure(`topic ${created.name} missing from the answer`);
        expectEqual('topic', { errorCode: errorName(found.errorCode), partitions: found.partitions.map((p) => p.partitionIndex).sort() }, { errorCode: 'NONE', partitions: [0, 1] });
        if (found.partitions.some((p) => p.leaderId < 0)) throw new CheckFailure('a partition has no leader');
        if (v >= 2 && !response.clusterId) throw new CheckFailure('no cluster id (Metadata v2+)');
        if (v >= 10) expectEqual('topic id (as CreateTopics/Metadata gave it first)', found.topicId, created.topicId);
        t.observe('errorCode', errorName(found.errorCode));
        t.observe('partitions', found.partitions.length);
      },
    }));
    checks.push(unknownTopic(session), byTopicId(session, shared, versions));
    return checks;
  },
};

function unknownTopic(session: Session): Check {
  return {
    id: 'metadata/unknown-topic',
    title: 'an unknown topic is UNKNOWN_TOPIC_OR_PARTITION and is not created',
    async run(t) {
      const conn = await session.connection();
      const name = session.topicName('never-created');
      const { version } = await conn.request(Metadata, { topics: [] });
      const ask = () => session.call(conn, Metadata, version, { topics: [{ name }], allowAutoTopicCreation: false });
      const first = await ask();
      expectEqual('error code', errorName(first.topics[0]?.errorCode ?? -1), 'UNKNOWN_TOPIC_OR_PARTITION');
      const again = await ask();
      expectEqual('error code asked again (allowAutoTopicCreation false must not create it)', errorName(again.topics[0]?.errorCode ?? -1), 'UNKNOWN_TOPIC_OR_PARTITION');
      t.observe('errorCode', errorName(first.topics[0]!.errorCode));
    },
  };
}

function byTopicId(session: Session, shared: () => Promise<CreatedTopic>, versions: number[]): Check {
  const id = 'metadata/by-topic-id';
  const title = `Metadata v${TOPIC_ID_LOOKUP}+ finds a topic by its id`;
  const v = versions.at(-1);
  if (v === undefined || v < TOPIC_ID_LOOKUP) return { id, title, notOffered: `Metadata v${TOPIC_ID_LOOKUP} is not offered`, run: async () => {} };
  return {
    id,
    title,
    async run(t) {
      const created = await shared();
      const response = await session.call(await session.connection(), Metadata, v, { topics: [{ topicId: created.topicId, name: null }], allowAutoTopicCreation: false });
      const found = response.topics[0];
      if (!found || found.topicId === ZERO_UUID) throw new CheckFailure('no topic in the answer');
      expectEqual('topic', { errorCode: errorName(found.errorCode), name: found.name }, { errorCode: 'NONE', name: created.name });
      t.observe('errorCode', errorName(found.errorCode));
    },
  };
}
