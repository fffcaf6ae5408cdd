import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import type { KafkaDist } from './dist.js';
import { BROKER_JVM_OPTIONS, javaBinary } from './java.js';
import { loggingSystemProperty } from './logging.js';
import { LOOPBACK } from './ports.js';
import { trackChild } from './reaper.js';
import { sleep, tailFile } from './util.js';

/** Public, JSON-friendly view of one node; `pid` and `alive` follow restarts. */
export interface KafkaNode {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The node's own folder: config, logs and data. */
  readonly dir: string;
  readonly logFile: string;
  /** JVM stdout/stderr: crashes and JVM warnings, normally empty. */
  readonly stdoutFile: string;
  readonly dataDir: string;
  pid: number | undefined;
  alive: boolean;
}

export interface NodeFiles {
  propertiesFile: string;
  loggingConfigFile: string;
}

/** Printed by kafka.Kafka once the broker is unfenced and serving (3.x and 4.x). */
const STARTED_MARKER = 'Kafka Server started';
const STOP_GRACE_MS = 20_000;

/** One KRaft node's JVM: start, wait until it serves, stop, kill, pause. */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logOffsetAtStart = 0;

  constructor(
    readonly info: KafkaNode,
    private readonly dist: KafkaDist,
    private readonly files: NodeFiles,
  ) {}

  start(): void {
    if (this.info.alive) throw new Error(`Node ${this.info.id} is already running`);
    // A restarted node appends to the same log, so readiness only counts new lines.
    this.logOffsetAtStart = existsSync(this.info.logFile) ? statSync(this.info.logFile).size : 0;

    const output = openSync(this.info.stdoutFile, 'a');
    try {
      this.child = spawn(
        javaBinary(),
        [
          ...BROKER_JVM_OPTIONS,
          loggingSystemProperty(this.dist.logging, this.files.loggingConfigFile),
          '-cp',
          this.dist.classpath,
          'kafka.Kafka',
          this.files.propertiesFile,
        ],
        { cwd: this.info.dir, stdio: ['ignore', output, output] },
      );
    } finally {
      closeSync(output);
    }
    const child = this.child;
    trackChild(child);
    this.info.pid = child.pid;
    this.info.alive = true;
    this.exited = new Promise((resolve) => {
      const onGone = (): void => {
        this.info.alive = false;
        resolve();
      };
      child.once('exit', onGone);
      child.once('error', onGone);
    });
  }

  /** Resolves once the log says the server started and its port accepts connections. */
  async waitUntilServing(deadline: number): Promise<void> {
    while (!this.startedMarkerLogged()) {
      this.failIfExited();
      if (Date.now() > deadline) throw new Error(`Node ${this.info.id} did not log "${STARTED_MARKER}" in time`);
      await sleep(250);
    }
    while (!(await canConnect(this.info.port))) {
      this.failIfExited();
      if (Date.now() > deadline) throw new Error(`Node ${this.info.id} logged start but port ${this.info.port} refuses`);
      await sleep(250);
    }
  }

  /** SIGTERM for a controlled shutdown, SIGKILL if it takes longer than the grace period. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.info.alive) return;
    // A paused JVM would never act on SIGTERM.
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    if (!(await settlesWithin(this.exited, graceMs))) await this.kill();
  }

  async kill(): Promise<void> {
    if (!this.info.alive) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  logTail(lines = 40): string {
    const stdout = tailFile(this.info.stdoutFile, 10).trim();
    return [
      `--- node ${this.info.id} ${this.info.alive ? `(pid ${this.info.pid})` : '(not running)'}: ${this.info.logFile}`,
      tailFile(this.info.logFile, lines),
      ...(stdout ? [`--- node ${this.info.id} stdout/stderr:`, stdout] : []),
    ].join('\n');
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.info.alive) this.child?.kill(signal);
  }

  private failIfExited(): void {
    if (!this.info.alive) {
      const how = this.child?.exitCode ?? this.child?.signalCode ?? 'unknown';
      throw new Error(`Node ${this.info.id} exited during startup (${how})`);
    }
  }

  private startedMarkerLogged(): boolean {
    if (!existsSync(this.info.logFile)) return false;
    const size = statSync(this.info.logFile).size;
    if (size <= this.logOffsetAtStart) return false;
    const fd = openSync(this.info.logFile, 'r');
    try {
      const buffer = Buffer.alloc(size - this.logOffsetAtStart);
      readSync(fd, buffer, 0, buffer.length, this.logOffsetAtStart);
      return buffer.includes(STARTED_MARKER);
    } finally {
      closeSync(fd);
    }
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
