/**
 * One 'abort' listener per AbortSignal, however many records it covers. A signal shared by
 * many sends (a request's, a shutdown's) carried a listener per record before, and Node
 * warns past ten on one target (MaxListenersExceededWarning: "possible memory leak").
 */
interface Listeners {
  readonly handlers: Set<() => void>;
  readonly dispatch: () => void;
}

const bySignal = new WeakMap<AbortSignal, Listeners>();

/** Runs `handler` when `signal` aborts; the function returned stops that (call it once the handler is not needed). */
export function onAbort(signal: AbortSignal, handler: () => void): () => void {
  let listeners = bySignal.get(signal);
  if (!listeners) {
    const handlers = new Set<() => void>();
    const dispatch = (): void => {
      bySignal.delete(signal);
      // A copy: a handler may stop others (or itself) as it runs.
      for (const h of [...handlers]) if (handlers.has(h)) h();
    };
    listeners = { handlers, dispatch };
    bySignal.set(signal, listeners);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  const { handlers, dispatch } = listeners;
  // The same function twice must stop twice: wrapped, each registration is its own.
  const entry = (): void => handler();
  handlers.add(entry);
  return () => {
    if (!handlers.delete(entry) || handlers.size > 0) return;
    // Nothing left to run: the signal does not keep the dispatcher (or anything it reaches).
    if (bySignal.get(signal)?.handlers === handlers) bySignal.delete(signal);
    signal.removeEventListener('abort', dispatch);
  };
}
