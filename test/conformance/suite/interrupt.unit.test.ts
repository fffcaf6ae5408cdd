/**
 * Ctrl-C mid-run: the check that runs is reported as interrupted (no verdict on the broker),
 * no other check starts, the topic whose CreateTopics was in flight is deleted too, and the
 * summary of what ran is printed; the exit code is the signal's.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConformance } from '../../../src/conformance/command.js';
import { NaiveBroker } from './naive-broker.js';

let broker: NaiveBroker;
beforeEach(async () => {
  broker = await NaiveBroker.start();
});
afterEach(async () => {
  await broker.close();
});

describe('the conformance suite stopped by a signal', () => {
  it('while a topic is being created: that topic is deleted, the check is interrupted, not failed, and the summary is printed', async () => {
    let interrupt!: (signal: NodeJS.Signals) => void;
    const interrupted = new Promise<NodeJS.Signals>((resolve) => (interrupt = resolve));
    let creating: string | undefined;
    broker.beforeHandling = async (api, request) => {
      if (api.name !== 'CreateTopics' || creating !== undefined) return;
      creating = (request.topics as Array<{ name: string }>)[0]!.name;
      // The signal comes while the broker holds the request; the broker then creates the topic.
      interrupt('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const { exitCode, report } = await runConformance({ bootstrap: broker.bootstrap, only: ['metadata', 'produce'], interrupt: interrupted, out, err: out });

    expect(creating).toBeDefined();
    expect([...broker.topics.keys()]).toEqual([]);
    expect(exitCode).toBe(130);
    expect(report.interruptedBy).toBe('SIGINT');
    const last = report.results.at(-1)!;
    expect(last).toMatchObject({ status: 'interrupted', message: 'stopped by SIGINT' });
    expect(report.results.filter((r) => r.status === 'fail')).toEqual([]);
    // Nothing after the interrupted check: the produce category never started.
    expect(report.results.filter((r) => r.category === 'produce')).toEqual([]);
    expect(report.cleanupErrors).toEqual([]);
    expect(printed).toMatch(/^SIGINT: stopping; deleting the topics it made, then the summary of what ran$/m);
    expect(printed).toMatch(/^interrupted +metadata\/\S+ +stopped by SIGINT/m);
    expect(printed).toMatch(/^category +pass +fail +differs +not offered +skipped +interrupted$/m);
    expect(printed).toMatch(/^total( +\d+){5} +1$/m);
    expect(printed).toMatch(/^stopped by SIGINT: the checks after the last one above did not run$/m);
  });
});
