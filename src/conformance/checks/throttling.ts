/**
 * Throttling (KIP-13 quotas, KIP-219 answers): with `--admin`, the suite gives a client id
 * of its own a small `producer_byte_rate` (AlterClientQuotas), produces past it on a
 * connection that uses that client id, and checks what Apache Kafka does:
 * - the answer carries throttle_time_ms > 0;
 * - from Produce v6 the answer comes at once, and the broker mutes the connection for the
 *   throttle time instead: the next request on it is answered only once that has passed;
 * - a quota key the broker does not know is refused (INVALID_REQUEST), and the quota is
 *   removed again (also at cleanup, whatever happened).
 * Without `--admin` every check is skipped: setting a quota needs ALTER on the cluster,
 * and changes what the cluster does for that client id.
 */
import { randomBytes } from 'node:crypto';
import type { BrokerConnection } from '../../net/broker-connection.js';
import { AlterClientQuotas, Produce } from '../../protocol/apis/index.js';
import { encodeRecordBatch } from '../../protocol/records/index.js';
import { commonVersions } from '../admin.js';
import type { Category, Check, CheckContext } from '../check.js';
import { errorName } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { CheckFailure, expectEqual } from '../failure.js';
import type { CreatedTopic, Session } from '../session.js';
import { produceBatch } from '../wire-ops.js';

/** KIP-219: from this Produce version the broker answers at once and mutes the channel. */
const ANSWERS_AT_ONCE_FROM = 6;
/**
 * Bytes per second. Kafka measures a new client's rate over at least (samples - 1)
 * windows (10 s by default), so each 16 KiB batch past 100 KiB adds about 1.6 s of throttle.
 */
const BYTE_RATE = 10_240;
const BATCH_BYTES = 16_384;
/** Enough throttle to tell "answered at once" and "muted" apart from an ordinary round trip. */
const ENOUGH_THROTTLE_MS = 400;
const GIVE_UP_MS = 15_000;

interface Throttled {
  version: number;
  throttleTimeMs: number;
  /** How long the throttled answer took. */
  answeredInMs: number;
  /** How long the next request on the same connection took. */
  nextAnsweredInMs: number;
  /** The throttled request and the next one, for the report of the checks that look at them. */
  exchanges: [Exchange, Exchange];
}

export const throttlingCategory: Category = {
  name: 'throttling',
  async plan(session, broker) {
    const ids = ['quota-set', 'produce-throttled', 'answered-at-once', 'channel-muted', 'unknown-quota-key', 'quota-removed'];
    const titles: Record<string, string> = {
      'quota-set': `AlterClientQuotas sets producer_byte_rate=${BYTE_RATE} for a client id of the suite's own`,
      'produce-throttled': 'Produce past the quota is answered with throttle_time_ms > 0',
      'answered-at-once': `from Produce v${ANSWERS_AT_ONCE_FROM} the throttled answer comes at once, not after the throttle time (KIP-219)`,
      'channel-muted': `from Produce v${ANSWERS_AT_ONCE_FROM} the broker mutes the connection: the next request is answered after the throttle time`,
      'unknown-quota-key': 'a quota key the broker does not know is refused (INVALID_REQUEST)',
      'quota-removed': 'AlterClientQuotas removes the quota again',
    };
    const unavailable = (why: Pick<Check, 'notOffered' | 'skipped'>): Check[] => ids.map((id) => ({ id: `throttling/${id}`, title: titles[id]!, ...why, run: async () => {} }));
    if (!session.admin) return unavailable({ skipped: 'needs --admin: the suite sets a produce quota on the cluster (AlterClientQuotas, ALTER on the cluster)' });
    if (commonVersions(broker, AlterClientQuotas).length === 0) return unavailable({ notOffered: 'AlterClientQuotas is not offered' });

    const clientId = `${session.clientId}-throttled-${randomBytes(3).toString('hex')}`;
    const entity = [{ entityType: 'client-id', entityName: clientId }];
    let quotaSet: Promise<void> | undefined;
    const setQuota = (): Promise<void> =>
      (quotaSet ??= (async () => {
        // Before the quota is set: a run stopped while AlterClientQuotas is in flight removes it too.
        session.onCleanup(() => alterQuota(session, entity, { key: 'producer_byte_rate', value: 0, remove: true }).then(() => undefined));
        const errorCode = await alterQuota(session, entity, { key: 'producer_byte_rate', value: BYTE_RATE, remove: false });
        expectEqual('AlterClientQuotas error', errorName(errorCode), 'NONE');
      })());
    let throttled: Promise<Throttled> | undefined;
    const produceUntilThrottled = (): Promise<Throttled> =>
      (throttled ??= (async () => {
        await setQuota();
        return produceUntilThrottledOn(session, clientId, await session.createTopic('throttling'));
      })());
    const produceVersion = broker.requireVersion(Produce);

    /** The shared run's exchange that a check looks at becomes that check's, for its report. */
    const shown = async (run: Promise<Throttled>, which: 0 | 1): Promise<Throttled> => {
      const r = await run;
      session.exchanges.push(r.exchanges[which]);
      return r;
    };
    const check = (id: string, run: (t: CheckContext) => Promise<void>, extra: Partial<Check> = {}): Check => ({ id: `throttling/${id}`, title: titles[id]!, run, ...extra });
    const kip219 = produceVersion >= ANSWERS_AT_ONCE_FROM ? {} : { notOffered: `Produce v${ANSWERS_AT_ONCE_FROM} is not offered: the broker delays its answer instead` };
    return [
      check('quota-set', async (t) => {
        await setQuota();
        t.observe('errorCode', 'NONE');
      }),
      check('produce-throttled', async (t) => {
        const r = await shown(produceUntilThrottled(), 0);
        t.observe('throttled', r.throttleTimeMs > 0);
      }),
      check(
        'answered-at-once',
        async (t) => {
          const r = await shown(produceUntilThrottled(), 0);
          if (r.answeredInMs >= r.throttleTimeMs) {
            throw new CheckFailure(`the throttled answer took ${r.answeredInMs} ms, throttle_time_ms ${r.throttleTimeMs}: the broker held it back`, [
              `- answered in: less than ${r.throttleTimeMs} ms`,
              `+ answered in: ${r.answeredInMs} ms`,
            ]);
          }
          t.observe('answeredBeforeThrottleEnds', true);
        },
        kip219,
      ),
      check(
        'channel-muted',
        async (t) => {
          const r = await shown(produceUntilThrottled(), 1);
          // Half the throttle time: the broker's clock and ours start at slightly different moments.
          if (r.nextAnsweredInMs < r.throttleTimeMs / 2) {
            throw new CheckFailure(`the next request was answered in ${r.nextAnsweredInMs} ms, inside the ${r.throttleTimeMs} ms throttle`, [
              `- next answer after: about ${r.throttleTimeMs} ms`,
              `+ next answer after: ${r.nextAnsweredInMs} ms`,
            ]);
          }
          t.observe('mutedForThrottleTime', true);
        },
        kip219,
      ),
      check('unknown-quota-key', async (t) => {
        const errorCode = await alterQuota(session, entity, { key: 'kafka_wire_not_a_quota', value: 1, remove: false });
        const name = errorName(errorCode);
        if (name === 'NONE') throw new CheckFailure('an unknown quota key was taken', ['- errorCode: "INVALID_REQUEST"', '+ errorCode: "NONE"']);
        t.observe('errorCode', name);
      }),
      check('quota-removed', async (t) => {
        await setQuota();
        const errorCode = await alterQuota(session, entity, { key: 'producer_byte_rate', value: 0, remove: true });
        expectEqual('AlterClientQuotas error', errorName(errorCode), 'NONE');
        t.observe('errorCode', errorName(errorCode));
      }),
    ];
  },
};

async function alterQuota(session: Session, entity: { entityType: string; entityName: string }[], op: { key: string; value: number; remove: boolean }): Promise<number> {
  const conn = await session.connection();
  const response = await session.call(conn, AlterClientQuotas, conn.requireVersion(AlterClientQuotas), { entries: [{ entity, ops: [op] }], validateOnly: false });
  const entry = response.entries[0];
  if (!entry) throw new CheckFailure('AlterClientQuotas: no answer for the entity');
  return entry.errorCode;
}

/**
 * Produces 16 KiB batches as `clientId` until an answer carries at least ENOUGH_THROTTLE_MS
 * of throttle (quotas reach the brokers through the metadata log, a moment after
 * AlterClientQuotas answers), then times one more request on the same connection.
 */
async function produceUntilThrottledOn(session: Session, clientId: string, topic: CreatedTopic): Promise<Throttled> {
  const leader = topic.partitions[0]!.leader;
  const conn: BrokerConnection = await session.open(await session.nodeAddress(leader), clientId);
  try {
    const version = conn.requireVersion(Produce);
    const batch = encodeRecordBatch([{ key: null, value: randomBytes(BATCH_BYTES) }]);
    const deadline = Date.now() + GIVE_UP_MS;
    let throttleTimeMs = 0;
    for (;;) {
      const started = performance.now();
      const answer = await produceOn(session, conn, topic, version, batch);
      const answeredInMs = Math.round(performance.now() - started);
      throttleTimeMs = answer.throttleTimeMs;
      if (throttleTimeMs >= ENOUGH_THROTTLE_MS) {
        const next = performance.now();
        const after = await produceOn(session, conn, topic, version, encodeRecordBatch([{ key: null, value: 'after' }]));
        return { version, throttleTimeMs, answeredInMs, nextAnsweredInMs: Math.round(performance.now() - next), exchanges: [answer.exchange, after.exchange] };
      }
      if (Date.now() > deadline) {
        throw new CheckFailure(`no Produce answer was throttled by ${ENOUGH_THROTTLE_MS} ms or more within ${GIVE_UP_MS / 1000} s at producer_byte_rate=${BYTE_RATE}`, [
          `- throttle_time_ms: ${ENOUGH_THROTTLE_MS} or more`,
          `+ throttle_time_ms: ${throttleTimeMs}`,
        ]);
      }
      // Before v6 the broker held the answer for the throttle; from v6 we must wait it out ourselves.
      if (throttleTimeMs > 0 && version >= ANSWERS_AT_ONCE_FROM) await new Promise((r) => setTimeout(r, throttleTimeMs));
    }
  } finally {
    await conn.close();
  }
}

async function produceOn(session: Session, conn: BrokerConnection, topic: CreatedTopic, version: number, batch: Buffer): Promise<{ throttleTimeMs: number; exchange: Exchange }> {
  const answer = await produceBatch(session, topic, 0, batch, { version, connection: conn });
  if (answer!.errorCode !== 0) throw new CheckFailure(`Produce v${version} refused: ${errorName(answer!.errorCode)}`);
  const exchange = session.exchanges.at(-1)!;
  return { throttleTimeMs: (exchange.response as { throttleTimeMs: number }).throttleTimeMs, exchange };
}
