import type { ChildProcess } from 'node:child_process';

/**
 * Makes sure the JVMs we spawn do not outlive this Node process. A leaked
 * broker keeps its ports and data dir and confuses the next run, and on a
 * 2-core machine a few stray JVMs make every later test slow.
 *
 * On 'exit' only synchronous work is possible, hence SIGKILL. On SIGINT,
 * SIGTERM and SIGHUP we kill the children too and then, unless someone else
 * also listens for that signal, re-raise it so the default behaviour (the
 * process ends) still happens.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const children = new Set<ChildProcess>();
let installed = false;
let signalsDelegated = false;

export function trackChild(child: ChildProcess): void {
  installOnce();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * For a process that stops its children gracefully on a signal itself (the
 * broker supervisor). The 'exit' hook stays as the last resort.
 */
export function delegateSignalHandling(): void {
  signalsDelegated = true;
}

export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone; nothing to do.
      }
    }
  }
}

function installOnce(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllChildren);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      if (signalsDelegated) return;
      killAllChildren();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
