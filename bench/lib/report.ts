/** The result files: one JSON per scenario, and one Markdown page with a table per scenario. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutsideMeasure } from './measure.js';
import type { ChildResult, Compression, LatencySummary } from './protocol.js';

export interface ClientRun {
  /** The --clients name. */
  id: string;
  label: string;
  version: string | null;
  idempotent: boolean | null;
  /** 'ok', or why the figures are missing or not to be trusted. */
  status: string;
  topic: string;
  records: number;
  acked: number | null;
  failed: number | null;
  /** Records the broker stored for this run: the sum of the topic's end offsets (minus Java's in-topic warm-up). */
  delivered: number | null;
  /** From the first measured send to the last ack, as the client measured it. */
  elapsedMs: number | null;
  /** delivered / elapsed. */
  recordsPerSec: number | null;
  /** recordsPerSec * record size / 2^20 (values only, as ProducerPerformance counts). */
  mbPerSec: number | null;
  latency: (Omit<LatencySummary, 'kind'> & { kind: LatencySummary['kind'] }) | null;
  /** CPU seconds (user + system, all threads) of the measured phase. */
  cpuS: number | null;
  cpuMethod: string;
  cpuUsPerRecord: number | null;
  peakRssMiB: number | null;
  /** GNU time's figures for the whole client process (for Java: the measured run). */
  process: OutsideMeasure | null;
  settings: Record<string, unknown>;
  notes: string[];
  /** os.loadavg()[0] before and after this client's run: other load on the machine skews the figures. */
  loadAverage1m?: { before: number; after: number };
  /** With --repeat: every run's headline figures; this object is the median one. */
  repeats?: Array<{
    topic: string;
    status: string;
    recordsPerSec: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    p999Ms?: number | null;
    cpuS: number | null;
    peakRssMiB: number | null;
  }>;
  child?: ChildResult;
  java?: Record<string, unknown>;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  recordSize: number;
  compression: Compression;
  records: number;
  warmupRecords: number;
  /** An unmeasured run of the first client warmed the broker up before the first round. */
  brokerWarmup?: boolean;
  partitions: number;
  /** Keyed scenarios: distinct keys the records carry. */
  keys?: number;
  /** Realistic scenarios: what the records are (recordSize is then their average value size). */
  recordsNote?: string;
  latencySampleEvery: number;
  /** Latency scenarios: the offered rate of the measured phase, records/s. */
  rate?: number;
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  /** The host probe's time (bench/lib/host-speed.ts) before each round and after the last, ms; absent in older results. */
  hostProbeMs?: number[];
  cluster: Record<string, unknown>;
  /** Matched batch sizes (--batch-bytes), when given. */
  batchBytes?: number;
  runs: ClientRun[];
}

export async function writeScenario(outDir: string, result: ScenarioResult): Promise<string> {
  const file = path.join(outDir, `produce-${result.scenario}.json`);
  await writeFile(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/** Rebuilds produce.md from every produce-*.json in the folder, so a run of one scenario keeps the other's table. */
export async function writeMarkdown(outDir: string): Promise<string> {
  const names = (await readdir(outDir)).filter((name) => /^produce-.+\.json$/.test(name)).sort().reverse();
  const scenarios: ScenarioResult[] = [];
  for (const name of names) scenarios.push(JSON.parse(await readFile(path.join(outDir, name), 'utf8')) as ScenarioResult);
  const file = path.join(outDir, 'produce.md');
  await writeFile(file, markdown(scenarios));
  return file;
}

export function markdown(scenarios: readonly ScenarioResult[]): string {
  const lines: string[] = ['# Producer benchmark results', '', 'Written by `npm run bench` (bench/run.ts); see bench/README.md for what is measured and how.', ''];
  for (const s of scenarios) {
    const m = s.machine;
    lines.push(`## ${s.title}`, '');
    lines.push(
      `${fmtInt(s.records)} records of ${s.recordsNote ? `${s.recordSize} bytes on average (${s.recordsNote})` : `${s.recordSize} bytes (${s.keys ? `${fmtInt(s.keys)} distinct keys` : 'no key'})`}, compression ${s.compression}, acks=all, ` +
        `${s.rate ? `offered at ${fmtInt(s.rate)} records/s (sent in 1 ms slices), every ${s.latencySampleEvery === 1 ? '' : `${s.latencySampleEvery}th `}record timed; ` : ''}` +
        `topic of ${s.partitions} partitions${replication(s.cluster)} on a ${String(s.cluster['nodes'] ?? 1)}-node Kafka ${String(s.cluster['version'])} on the same machine; ` +
        `${s.batchBytes ? `**batch sizes matched: every client with a batch size setting at ${fmtInt(s.batchBytes)} bytes** (\`--batch-bytes\`); ` : ''}` +
        `warm-up ${fmtInt(s.warmupRecords)} records per client to the same topic, not counted${s.brokerWarmup ? `; before the first round, one unmeasured run of the first client${s.rate ? ' at full speed' : ''} warmed the broker up` : ''}. ${s.startedAt.slice(0, 16).replace('T', ' ')} UTC, ` +
        `${String(m['cpuModel'])}, ${String(m['cores'])} cores, Node ${String(m['node'])}, ${String(m['java'])}.` +
        (s.hostProbeMs ? ` Host probe ${s.hostProbeMs.join(' / ')} ms (a fixed CPU task timed before each round and after the last: where it moves, the host's speed did, and figures from either side are not comparable).` : ''),
      '',
    );
    // Latency scenarios show p99.9 too: at a fixed rate the tail is what they measure.
    const tail = s.rate !== undefined;
    lines.push(`| client | version | idempotent | records/s (delivered) | MB/s | p50 ms | p99 ms |${tail ? ' p99.9 ms |' : ''} CPU s | CPU µs/record | peak RSS MB | status |`);
    lines.push(`| --- | --- | --- | ---: | ---: | ---: | ---: |${tail ? ' ---: |' : ''} ---: | ---: | ---: | --- |`);
    const footnotes = new Map<string, string>();
    for (const r of s.runs) {
      const latencyMark = r.latency?.kind === 'per-send' ? ' ¹' : '';
      if (latencyMark && tail) footnotes.set('¹', '¹ each record of a send() call (one call per 1 ms slice) has the call\'s latency; other latencies are per record, from the produce call to its delivery report.');
      else if (latencyMark) footnotes.set('¹', '¹ per send() call of a chunk of records (the client batches by arrays, it has no linger); other latencies are per record, from the produce call to its delivery report.');
      const cpuMark = r.id === 'java' && r.cpuS !== null ? ' ²' : '';
      if (cpuMark) footnotes.set('²', '² the JVM is measured from outside: CPU of the run minus CPU of a run that only does the warm-up (JVM start, connect, JIT), see README.');
      lines.push(
        `| ${r.label} | ${r.version ?? '–'} | ${r.idempotent === null ? '–' : r.idempotent ? 'yes' : 'no'} | ${fmtInt(r.recordsPerSec)} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.latency?.p50Ms, 1)}${latencyMark} | ${fmt(r.latency?.p99Ms, 1)}${latencyMark} |${tail ? ` ${fmt(r.latency?.p999Ms, 1)}${latencyMark} |` : ''} ${fmt(r.cpuS, 2)}${cpuMark} | ${fmt(r.cpuUsPerRecord, 2)} | ${fmt(r.peakRssMiB, 0)} | ${r.status.replaceAll('|', '\\|')} |`,
      );
    }
    lines.push('');
    for (const mark of ['¹', '²']) {
      const note = footnotes.get(mark);
      if (note) lines.push(note, '');
    }
  }
  return lines.join('\n');
}

/** ", replication factor 3, min.insync.replicas 2" when the run set them. */
function replication(cluster: Record<string, unknown>): string {
  const rf = cluster['replicationFactor'];
  const isr = cluster['minInsyncReplicas'];
  const parts = [typeof rf === 'number' ? `replication factor ${rf}` : '', typeof isr === 'number' ? `min.insync.replicas ${isr}` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function fmt(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function fmtInt(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
}
