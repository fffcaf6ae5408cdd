/**
 * Time, as the producer sees it. Everything in src/producer/ that reads the time or waits
 * goes through a Clock, so the deterministic tests can run the sender, completion,
 * close/flush/abort and the transaction states on a fake one (as Java's MockTime).
 */

/** A pending timer; only ever passed back to the clock that made it. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once, `ms` from now. A timer that should not keep the process alive is `unref`ed by the caller's choice. */
  setTimeout(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Runs `fn` after the I/O already due (setImmediate): many calls in one tick make one run each, in order. */
  soon(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, opts) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (opts?.unref) t.unref();
    return t;
  },
  clearTimeout(handle) {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
  soon(fn) {
    setImmediate(fn);
  },
};

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason as soon as it is
 * aborted: every wait inside the producer ends when the producer closes.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
