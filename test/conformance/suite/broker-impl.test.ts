/**
 * `npm run broker -- start --impl kfake|tansu`: the background supervisor starts the other
 * implementations too, prints the bootstrap alone on stdout's first line, and `status` and
 * `stop` see them. kfake is skipped without the Go toolchain; Tansu runs only when
 * .cache/tansu/bin/tansu is already built (CI does not build it). `--secure` adds secured
 * listeners, and what it prints is enough for a producer to reach them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SUPERVISOR_MARKER, isOurProcess, readState } from '../../../scripts/kafka/broker-state.js';
import { REPO_ROOT } from '../../../scripts/kafka/paths.js';
import { KFAKE_BINARY, hasGo } from '../../../scripts/kfake/kfake.js';
import { TANSU_BINARY, hasTansu } from '../../../scripts/tansu/tansu.js';
import { Producer } from '../../../src/index.js';

const run = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const BROKER = path.join(REPO_ROOT, 'scripts', 'broker.ts');

function broker(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(TSX, [BROKER, ...args], { cwd: REPO_ROOT, timeout: 900_000 });
}

function accepts(bootstrap: string): Promise<boolean> {
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startStatusStop(impl: string, label: string, binary: string): Promise<void> {
  const name = `impl-${impl}-${process.pid}`;
  try {
    const { stdout } = await broker('start', '--impl', impl, '--name', name);
    const bootstrap = stdout.split('\n')[0]!;
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await accepts(bootstrap)).toBe(true);

    const status = (await broker('status')).stdout;
    const line = status.split('\n').find((l) => l.startsWith(`${name}:`));
    expect(line).toBe(`${name}: ${label} at ${bootstrap} - 1/1 nodes up, since ${line?.split('since ')[1]}`);

    const { stderr } = await broker('start', '--impl', impl, '--name', name);
    expect(stderr).toContain('was already running');
    const state = await readState(name);
    // A zombie (a detached supervisor nobody reaped yet) has no command line: not running.
    const running = (): boolean[] => [isOurProcess(state!.supervisorPid, SUPERVISOR_MARKER), isOurProcess(state!.nodes[0]!.pid, binary)];
    expect(running()).toEqual([true, true]);

    await broker('stop', '--name', name);
    expect((await broker('status')).stdout).not.toContain(`${name}:`);
    expect(await accepts(bootstrap)).toBe(false);
    expect(running()).toEqual([false, false]);
  } finally {
    await broker('stop', '--name', name);
  }
}

const goAvailable = await hasGo();

describe('npm run broker -- start --impl', () => {
  it.runIf(goAvailable)('starts, lists and stops franz-go kfake', () => startStatusStop('kfake', 'kfake', KFAKE_BINARY), 900_000);
  it.runIf(hasTansu())('starts, lists and stops Tansu', () => startStatusStop('tansu', 'tansu 0.6.0', TANSU_BINARY), 120_000);
});

describe('npm run broker -- start --secure', () => {
  it('prints the secured listeners, CA and user, and a producer reaches SASL_SSL with them', async () => {
    const name = `secure-${process.pid}`;
    try {
      const { stderr } = await broker('start', '--name', name, '--secure');
      const listener = (n: string): string => new RegExp(`^  ${n}\\s+(127\\.0\\.0\\.1:\\d+)$`, 'm').exec(stderr)?.[1] ?? '';
      for (const n of ['SASL_PLAINTEXT', 'SSL', 'MTLS', 'SASL_SSL']) expect(listener(n), stderr).toMatch(/^127\.0\.0\.1:\d+$/);
      const caFile = /^tls\.ca: the file (.+)$/m.exec(stderr)?.[1];
      expect(caFile, stderr).toBeDefined();
      expect(stderr).toMatch(/^user: alice \/ alice-secret /m);
      const producer = new Producer({
        bootstrap: listener('SASL_SSL'),
        tls: { ca: readFileSync(caFile!) },
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' },
      });
      try {
        const metadata = await producer.send({ topic: 'secure-start', value: 'over SASL_SSL' });
        expect(metadata.offset).toBe(0n);
      } finally {
        await producer.close();
      }
    } finally {
      await broker('stop', '--name', name);
    }
  }, 300_000);
});
