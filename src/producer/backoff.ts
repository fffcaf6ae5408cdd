/**
 * The one backoff policy (KIP-580, as Java's ExponentialBackoff): the n-th consecutive
 * failure waits `base * 2^n`, capped at `max`, with ±20% jitter so that many clients
 * (or many partitions) that failed together do not retry together.
 *
 * Metadata refreshes, reconnects, produce retries, InitProducerId and the transaction
 * coordinator calls all wait through it.
 */
export interface BackoffSettings {
  /** retryBackoffMs: the first wait. */
  readonly base: number;
  /** retryBackoffMaxMs: no wait is longer. */
  readonly max: number;
}

const JITTER = 0.2;

/** How long to wait after `failures` consecutive failures (1 for the first). */
export function backoffDelay(settings: BackoffSettings, failures: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failures - 1);
  // 2^31 ms is far past any sensible cap: stop doubling before the number gets silly.
  const raw = settings.base * 2 ** Math.min(exponent, 31);
  const capped = Math.min(settings.max, raw);
  return Math.round(capped * (1 - JITTER + random() * 2 * JITTER));
}
