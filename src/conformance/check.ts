/** What a check is, and what it may do while it runs. */
import type { BrokerConnection } from '../net/broker-connection.js';
import type { Session } from './session.js';
import type { CategoryName, Json } from './types.js';

export interface CheckContext {
  readonly session: Session;
  /**
   * Records a summary of an answer where the protocol leaves the broker room: the
   * runner compares it with what Apache Kafka answered ("differs", not "fail").
   */
  observe(key: string, value: Json): void;
}

export interface Check {
  /** Stable across runs and brokers: the key of the check in expected.json. */
  id: string;
  title: string;
  /** Set when the broker does not offer what the check needs. */
  notOffered?: string;
  /** Set when the check cannot run on this machine (a codec's package is missing). */
  skipped?: string;
  run(t: CheckContext): Promise<void>;
}

export interface Category {
  name: CategoryName;
  /** The checks for what this broker offers, decided from its ApiVersions. */
  plan(session: Session, broker: BrokerConnection): Promise<Check[]>;
}

/** A check that cannot run here, with the reason. */
export function notOffered(id: string, title: string, reason: string): Check {
  return { id, title, notOffered: reason, run: async () => {} };
}
