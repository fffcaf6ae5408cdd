/**
 * CreateTopics at every version both sides speak: the topic is there with the partitions
 * and config asked for (v5+ echo them), with the id Metadata gives (v7+); a second
 * create of the same name is TOPIC_ALREADY_EXISTS.
 */
import { CreateTopics, Metadata } from '../../protocol/apis/index.js';
import { commonVersions, waitForLeaders } from '../admin.js';
import type { Category, Check } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import type { Session } from '../session.js';

const PARTITIONS = 3;
const CONFIG = { name: 'max.message.bytes', value: '65536' };

export const createTopicsCategory: Category = {
  name: 'create-topics',
  async plan(session, broker) {
    const checks: Check[] = commonVersions(broker, CreateTopics).map((v) => ({
      id: `create-topics/v${v}`,
      title: `CreateTopics v${v} creates a topic of ${PARTITIONS} partitions with a config`,
      async run(t) {
        const name = session.topicName(`create-v${v}`);
        const conn = await session.connection();
        session.deleteAtCleanup(name);
        const response = await session.call(conn, CreateTopics, v, {
          topics: [{ name, numPartitions: PARTITIONS, replicationFactor: 1, configs: [CONFIG] }],
          timeoutMs: 30_000,
        });
        const result = response.topics[0];
        if (!result) throw new CheckFailure('no result for the topic');
        if (result.errorCode === 0) session.adopt({ name, topicId: result.topicId ?? '', partitions: [] });
        expectEqual('result', { name: result.name, errorCode: errorName(result.errorCode) }, { name, errorCode: 'NONE' });
        if (v >= 5) {
          expectEqual('partitions and replication echoed (v5+)', { numPartitions: result.numPartitions, replicationFactor: result.replicationFactor }, { numPartitions: PARTITIONS, replicationFactor: 1 });
          const echoed = result.configs?.find((c) => c.name === CONFIG.name)?.value;
          expectEqual(`${CONFIG.name} echoed (v5+)`, echoed, CONFIG.value);
        }
        const { topicId } = await waitForLeaders(conn, name, PARTITIONS);
        if (v >= 7) expectEqual('topic id, as Metadata gives it (v7+)', result.topicId, topicId);
        t.observe('errorCode', errorName(result.errorCode));
      },
    }));
    checks.push(alreadyExists(session));
    return checks;
  },
};

function alreadyExists(session: Session): Check {
  return {
    id: 'create-topics/already-exists',
    title: 'creating a topic twice is TOPIC_ALREADY_EXISTS',
    async run(t) {
      const created = await session.createTopic('twice');
      const conn = await session.connection();
      const version = conn.requireVersion(CreateTopics);
      const response = await session.call(conn, CreateTopics, version, { topics: [{ name: created.name, numPartitions: 1, replicationFactor: 1 }], timeoutMs: 30_000 });
      expectEqual('error code', errorName(response.topics[0]?.errorCode ?? -1), 'TOPIC_ALREADY_EXISTS');
      // Still the same topic: the refused create did not replace it.
      const { response: meta } = await conn.request(Metadata, { topics: [{ name: created.name }], allowAutoTopicCreation: false });
      if (meta.topics[0]?.topicId !== created.topicId && meta.topics[0]?.topicId !== undefined) throw new CheckFailure('the topic id changed');
      t.observe('errorCode', errorName(response.topics[0]!.errorCode));
    },
  };
}
