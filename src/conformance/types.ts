/** The vocabulary of the conformance suite: categories, checks, results. */

export const CATEGORIES = ['api-versions', 'metadata', 'create-topics', 'produce', 'limits', 'idempotence', 'transactions', 'throttling'] as const;
export type CategoryName = (typeof CATEGORIES)[number];

/**
 * `differs`: the broker did something the protocol allows but Apache Kafka does not do
 * (another error code for the same refusal, say); reported, never a failure.
 * `interrupted`: cut off by Ctrl-C (or SIGTERM); no verdict.
 */
export type Status = 'pass' | 'fail' | 'differs' | 'not offered' | 'skipped' | 'interrupted';

/** JSON that can be recorded in expected.json and compared. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One request and its answer, rendered as `kafka-wire decode` prints them. */
export interface RenderedExchange {
  api: string;
  version: number;
  request: string;
  /** null for a request the broker does not answer (Produce with acks=0). */
  response: string | null;
}

export interface CheckResult {
  /** Stable across runs and brokers, e.g. `produce/v11/lz4/acks=all`: the key in expected.json. */
  id: string;
  category: CategoryName;
  title: string;
  status: Status;
  /** Why it failed, differs, or was not run. */
  message?: string;
  /** Lines of `- expected` / `+ actual`, for fail and differs. */
  diff?: string[];
  /** What this broker answered, summarised (the value recorded with --record). */
  observed?: Record<string, Json>;
  /** What Apache Kafka answered, by release, from expected.json. */
  apacheKafka?: Record<string, Record<string, Json>>;
  /** The request that went wrong and its answer. */
  exchange?: RenderedExchange;
  durationMs: number;
}
