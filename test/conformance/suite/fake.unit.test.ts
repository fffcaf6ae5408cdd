/**
 * The suite must be able to fail: for each category, a broker that gives one wrong answer
 * (the naive broker, tampered with or simply not enforcing a rule) makes a check fail
 * with a readable diff, the request and answer as `kafka-wire decode` prints them, and
 * what Apache Kafka answers; the exit code is 1.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConformance } from '../../../src/conformance/command.js';
import type { CategoryName, CheckResult } from '../../../src/conformance/types.js';
import { NaiveBroker, type Tamper } from './naive-broker.js';

let broker: NaiveBroker;
beforeEach(async () => {
  broker = await NaiveBroker.start();
});
afterEach(async () => {
  await broker.close();
});

async function run(only: CategoryName, tamper?: Tamper, admin = false): Promise<{ exitCode: number; printed: string; result: (id: string) => CheckResult }> {
  if (tamper) broker.tamper = tamper;
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const { exitCode, report } = await runConformance({ bootstrap: broker.bootstrap, only: [only], admin, out, err: out });
  const result = (id: string): CheckResult => {
    const found = report.results.find((r) => r.id === id);
    if (!found) throw new Error(`no result for ${id}; have ${report.results.map((r) => r.id).join(', ')}`);
    return found;
  };
  return { exitCode, printed, result };
}

/** The check failed, its diff holds `lines`, and the report printed them with the exchange. */
function expectFailure(outcome: Awaited<ReturnType<typeof run>>, id: string, lines: string[]): void {
  const r = outcome.result(id);
  expect(r.status, JSON.stringify(r, null, 2)).toBe('fail');
  expect(r.diff).toEqual(expect.arrayContaining(lines.map((l) => expect.stringContaining(l))));
  expect(outcome.exitCode).toBe(1);
  expect(outcome.printed).toContain(`FAIL ${id}`);
  for (const line of lines) expect(outcome.printed).toContain(line);
  expect(outcome.printed).toMatch(/request \(\w+ v\d+\):\n\s+(\w+Request v\d+\n\s+offset\s+length\s+field|\d+ bytes \(decode: )/);
  expect(outcome.printed).toMatch(/answer:\n\s+(\w+Response v\d+\n\s+offset\s+length\s+field|\(none: acks=0\))/);
}

describe('the conformance suite against a broker that answers wrongly', () => {
  it('api-versions: a KIP-511 answer with the wrong ApiVersions range', async () => {
    const outcome = await run('api-versions', (api, version, _req, res) => (api.key === 18 && res.errorCode === 35 ? { ...res, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] } : res));
    expectFailure(outcome, 'api-versions/unknown-version', ['- ApiVersions range max: 4', '+ ApiVersions range max: 3']);
    expect(outcome.printed).toContain('Apache Kafka 4.3.1 answers: {"errorCode":"UNSUPPORTED_VERSION","listsOnlyApiVersions":true}');
  });

  it('metadata: a topic id that changes at Metadata v10', async () => {
    const outcome = await run('metadata', (api, version, _req, res) =>
      api.name === 'Metadata' && version === 10 ? { ...res, topics: res.topics.map((t: { topicId: string }) => ({ ...t, topicId: 'AAAAAAAAAAAAAAAAAAAAAg' })) } : res,
    );
    expectFailure(outcome, 'metadata/v10', ['+ topic id (as CreateTopics/Metadata gave it first): "AAAAAAAAAAAAAAAAAAAAAg"']);
    expect(outcome.result('metadata/v11').status).toBe('pass');
  });

  it('create-topics: a CreateTopics answer that echoes the wrong partition count', async () => {
    const outcome = await run('create-topics', (api, version, _req, res) =>
      api.name === 'CreateTopics' && version === 7 ? { ...res, topics: res.topics.map((t: object) => ({ ...t, numPartitions: 1 })) } : res,
    );
    expectFailure(outcome, 'create-topics/v7', ['- partitions and replication echoed (v5+) numPartitions: 3', '+ partitions and replication echoed (v5+) numPartitions: 1']);
  });

  it('produce: a Produce answer with the wrong base offset', async () => {
    const outcome = await run('produce', (api, _v, req, res) =>
      api.name === 'Produce' && req.topicData[0].partitionData[0].index === 1
        ? { ...res, responses: res.responses.map((t: { partitionResponses: object[] }) => ({ ...t, partitionResponses: t.partitionResponses.map((p) => ({ ...p, baseOffset: 5n })) })) }
        : res,
    );
    expectFailure(outcome, 'produce/v9/none/acks=1', ['- answer baseOffset: "0"', '+ answer baseOffset: "5"']);
    expect(outcome.result('produce/v9/none/acks=all').status).toBe('pass');
  });

  it('limits: a batch over max.message.bytes taken', async () => {
    const outcome = await run('limits');
    expectFailure(outcome, 'limits/max-message-bytes/one-byte-over', ['- error code: "MESSAGE_TOO_LARGE"', '+ error code: "NONE"']);
    expectFailure(outcome, 'limits/corrupt-crc', ['- errorCode: "CORRUPT_MESSAGE"', '+ errorCode: "NONE"']);
  });

  it('idempotence: a duplicate appended again, a gap in the sequence taken', async () => {
    const outcome = await run('idempotence');
    expectFailure(outcome, 'idempotence/duplicate', ['- offset of the duplicate (the original one): "0"', '+ offset of the duplicate (the original one): "3"']);
    expectFailure(outcome, 'idempotence/out-of-order', ['- errorCode: "OUT_OF_ORDER_SEQUENCE_NUMBER"', '+ errorCode: "NONE"']);
    expect(outcome.result('idempotence/in-sequence').status).toBe('pass');
  });

  it('transactions: aborted records shown to read_committed', async () => {
    const outcome = await run('transactions');
    expectFailure(outcome, 'transactions/v1/abort', ['- read_committed[0]: (absent)', '+ read_committed[0]: "a1"']);
  });

  it('throttling: a throttled Produce answer held back for the throttle time (before KIP-219), not sent at once', async () => {
    broker.holdThrottledAnswers = true;
    const outcome = await run('throttling', undefined, true);
    expectFailure(outcome, 'throttling/answered-at-once', ['- answered in: less than', '+ answered in:']);
    expect(outcome.result('throttling/produce-throttled').status).toBe('pass');
    expect(outcome.result('throttling/unknown-quota-key').status).toBe('pass');
    expect(broker.quotas.size).toBe(0);
  });

  it('throttling: skipped without --admin, and a broker that mutes as Kafka does passes', async () => {
    expect((await run('throttling')).result('throttling/produce-throttled')).toMatchObject({ status: 'skipped', message: expect.stringContaining('needs --admin') });
    const outcome = await run('throttling', undefined, true);
    expect(outcome.exitCode, outcome.printed).toBe(0);
    expect(outcome.result('throttling/channel-muted').status).toBe('pass');
  });

  it('a refusal with another error code than Apache Kafka\'s is "differs", not a failure', async () => {
    const outcome = await run('limits', (api, _v, req, res) =>
      api.name === 'Produce' && req.acks === 2 ? { ...res, responses: res.responses.map((t: { partitionResponses: object[] }) => ({ ...t, partitionResponses: t.partitionResponses.map((p) => ({ ...p, errorCode: 87 })) })) } : res,
    );
    const r = outcome.result('limits/bad-acks');
    expect(r.status).toBe('differs');
    expect(r.diff).toEqual(['- errorCode: "INVALID_REQUIRED_ACKS"', '+ errorCode: "INVALID_RECORD"']);
    expect(outcome.printed).toContain('DIFFERS limits/bad-acks');
  });
});
