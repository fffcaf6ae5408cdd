import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * Lets the global setup's teardown know whether the run passed, so it can
 * delete the broker logs of a green run and keep them after a failure.
 *
 * Reporters and global setup both live in the vitest main process, so a
 * process-wide symbol is enough; no marker file to clean up. The reporter runs
 * before global teardown. When it is not registered (e.g. `--reporter=...` on
 * the command line replaces the configured list) nothing is recorded and the
 * teardown keeps the logs, which is the safe choice.
 */

export type RunOutcome = 'passed' | 'failed';

const OUTCOME = Symbol.for('kafka-wire.test-run-outcome');

type OutcomeHolder = { [OUTCOME]?: RunOutcome };

export function lastRunOutcome(): RunOutcome | undefined {
  return (globalThis as OutcomeHolder)[OUTCOME];
}

export default class RunOutcomeReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>, reason: TestRunEndReason): void {
    (globalThis as OutcomeHolder)[OUTCOME] = reason === 'passed' && errors.length === 0 ? 'passed' : 'failed';
    // The plain summary line CI systems read, whatever the reporter above printed.
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
