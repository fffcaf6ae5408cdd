/**
 * Checks the package as npm will publish it, with the ecosystem's own tools:
 *
 * 1. `npm run build`, then `npm pack` into a temporary directory;
 * 2. the tarball holds exactly what a user needs (dist without source maps, README,
 *    LICENSE, CHANGELOG), and a types file and a JS file for every export;
 * 3. publint on the tarball, suggestions included: any message fails;
 * 4. @arethetypeswrong/cli on the tarball, in all four resolution modes (node10,
 *    node16 from CJS, node16 from ESM, bundler): every entry must resolve to types in
 *    each. The one problem allowed is CJSResolvesToESM in node16-from-CJS: the package is
 *    ESM only and CommonJS loads it through require(esm) (Node 20.19+), which TypeScript's
 *    `node16` mode (and attw's bundled TypeScript) does not model; `nodenext` does since
 *    TypeScript 5.8, and step 6 checks that;
 * 5. the tarball installed into a scratch project (`npm install <tarball> --omit=optional`),
 *    used from ESM (`import`) and CommonJS (`require`) under Node;
 * 6. TypeScript files in that project type-checked with this repo's `tsc` under
 *    module/moduleResolution `node16`, `nodenext` and `bundler`.
 *
 * `npm run check:package` runs it all (KEEP_SCRATCH=1 keeps the temporary directory);
 * test/package/package.test.ts runs the same steps.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is an error carrying its output unless `allowFailure`. */
export function run(command: string, args: readonly string[], opts: { cwd: string; allowFailure?: boolean; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !opts.allowFailure) {
        reject(new Error(`${command} ${args.join(' ')} (in ${opts.cwd}) exited ${code}\n${stdout}\n${stderr}`.trim()));
      } else resolvePromise({ code, stdout, stderr });
    });
  });
}

// ---- 1 + 2: build, pack, contents ---------------------------------------------------------

export interface Packed {
  tarball: string;
  /** Paths inside the package, e.g. `dist/index.js`. */
  files: string[];
  /** The package.json that was packed. */
  manifest: { name: string; version: string; exports: Record<string, unknown>; files: string[] };
}

export async function buildAndPack(workDir: string): Promise<Packed> {
  await run(NPM, ['run', 'build'], { cwd: ROOT });
  // The build just ran: `prepare` would run it again.
  const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], { cwd: ROOT });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no result: ${stdout}`);
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Packed['manifest'];
  return { tarball: join(workDir, info.filename), files: info.files.map((f) => f.path).sort(), manifest };
}

/** The subpaths of the exports map that are modules (not `./package.json`). */
export function moduleEntries(manifest: Packed['manifest']): [subpath: string, target: { types: string; import: string; default: string }][] {
  return Object.entries(manifest.exports)
    .filter(([subpath]) => !subpath.endsWith('.json'))
    .map(([subpath, target]) => [subpath, target as { types: string; import: string; default: string }]);
}

/** What is wrong with the tarball's file list; empty when nothing is. */
export function contentProblems(packed: Packed): string[] {
  const problems: string[] = [];
  const files = new Set(packed.files);
  for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!files.has(required)) problems.push(`${required} is not in the package`);
  }
  for (const file of packed.files) {
    if (['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(file)) continue;
    // The documents the README links to, so its links work where the package is read (npm, node_modules).
    if (file.startsWith('docs/') && file.endsWith('.md')) continue;
    if (!file.startsWith('dist/')) problems.push(`${file}: only dist/ and the documents belong in the package`);
    else if (file.endsWith('.map')) problems.push(`${file}: a source map, whose sources are not published`);
    else if (!/\.(js|d\.ts)$/.test(file)) problems.push(`${file}: neither JavaScript nor a declaration file`);
    else if (/(^|\/)(test|tests|__tests__)\//.test(file) || /\.test\.(js|d\.ts)$/.test(file)) problems.push(`${file}: a test`);
  }
  for (const [, link] of readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/\]\((docs\/[^)#\s]+)/g)) {
    if (!files.has(link!)) problems.push(`README.md links to ${link}, which is not in the package`);
  }
  for (const [subpath, target] of moduleEntries(packed.manifest)) {
    const keys = Object.keys(target);
    if (keys[0] !== 'types') problems.push(`exports["${subpath}"]: "types" must come first (has ${keys.join(', ')})`);
    for (const condition of ['types', 'import', 'default'] as const) {
      const path = target[condition]?.replace(/^\.\//, '');
      if (!path) problems.push(`exports["${subpath}"] has no "${condition}"`);
      else if (!files.has(path)) problems.push(`exports["${subpath}"].${condition} = ${path} is not in the package`);
    }
    if (target.import !== target.default) problems.push(`exports["${subpath}"]: "import" and "default" must be the same ESM file (one module instance for import and require)`);
  }
  return problems;
}

// ---- 3: publint -----------------------------------------------------------------------------

/** publint's messages (suggestions included), formatted; empty when it has nothing to say. */
export async function publintMessages(tarball: string): Promise<string[]> {
  const data = await readFile(tarball);
  const tarballBuffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const { messages, pkg } = await publint({ pack: { tarball: tarballBuffer }, level: 'suggestion', strict: true });
  return messages.map((m) => `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`);
}

// ---- 4: are the types wrong ----------------------------------------------------------------

export const RESOLUTION_KINDS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'] as const;

/** The one attw problem allowed, and where: see the header of this file. */
const ALLOWED = { kind: 'CJSResolvesToESM', resolutionKind: 'node16-cjs' } as const;

export interface AttwResult {
  /** One line per entry point: how each resolution mode resolved it. */
  summary: string[];
  /** Everything wrong; empty when nothing is. */
  problems: string[];
  /** How many allowed CJSResolvesToESM problems attw reported (one per entry point expected). */
  allowed: number;
}

interface AttwJson {
  analysis: {
    entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName?: string; isTypeScript?: boolean } | undefined }> }>;
    problems: { kind: string; entrypoint?: string; resolutionKind?: string }[];
  };
}

export async function attw(tarball: string, entries: readonly string[]): Promise<AttwResult> {
  // Strict profile (all four modes), no rules ignored: the one allowed problem is filtered
  // below, by kind and mode, so that it cannot hide the same problem elsewhere.
  const bin = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  const { stdout, stderr } = await run(process.execPath, [bin, tarball, '--format', 'json', '--profile', 'strict'], { cwd: ROOT, allowFailure: true });
  let json: AttwJson;
  try {
    json = JSON.parse(stdout) as AttwJson;
  } catch {
    throw new Error(`attw printed no JSON:\n${stdout}\n${stderr}`);
  }
  const problems: string[] = [];
  const summary: string[] = [];
  let allowed = 0;
  for (const problem of json.analysis.problems) {
    if (problem.kind === ALLOWED.kind && problem.resolutionKind === ALLOWED.resolutionKind) allowed++;
    else problems.push(`${problem.kind} in ${problem.entrypoint ?? '(package)'} (${problem.resolutionKind ?? 'all modes'})`);
  }
  for (const entry of entries) {
    const analysed = json.analysis.entrypoints[entry];
    if (!analysed) {
      problems.push(`attw did not analyse ${entry}`);
      continue;
    }
    const modes = RESOLUTION_KINDS.map((kind) => {
      const resolved = analysed.resolutions[kind]?.resolution;
      if (!resolved?.fileName || !resolved.isTypeScript) problems.push(`${entry} has no types under ${kind}`);
      return `${kind} ${resolved?.fileName?.replace(/^\/node_modules\/[^/]+\//, '') ?? 'unresolved'}`;
    });
    summary.push(`${entry}: ${modes.join(', ')}`);
  }
  return { summary, problems, allowed };
}

// ---- 5 + 6: a scratch project that installs and uses the tarball --------------------------

/** RecordBatch v2 with one record (key "k", value "hello", CreateTime 1700000000000). */
export const KNOWN_BATCH_HEX =
  '00000000000000000000003effffffff0236ff4dc30000000000000000018bcfe568000000018bcfe56800ffffffffffffffffffffffffffff0000000118000000026b0a68656c6c6f00';

const ESM_SMOKE = `
import assert from 'node:assert/strict';
import * as root from 'kafka-wire';
import { ConfigError, KafkaWireError, MissingCodecError, Producer, TransactionalProducerPool } from 'kafka-wire';
import { decode, formatNodes } from 'kafka-wire/decode';
import { BrokerConnection, parseBootstrap, Produce } from 'kafka-wire/wire';
import { encodeRecordBatch, RecordBatchBuilder, struct } from 'kafka-wire/protocol';

// The root is the producer's entry: the wire and decode tools moved out of it.
for (const moved of ['decode', 'formatNodes', 'toJson', 'readPartition', 'endOffset', 'BrokerConnection', 'Connection', 'CONNECTION_DEFAULTS', 'parseBootstrap']) {
  assert.equal(moved in root, false, moved + ' is still exported from the root');
}
assert.equal(typeof TransactionalProducerPool, 'function');
assert.equal(typeof MissingCodecError, 'function');
assert.equal(typeof BrokerConnection.open, 'function');
assert.equal(Produce.name, 'Produce');
assert.equal(typeof RecordBatchBuilder, 'function');
assert.equal(typeof struct, 'function');
assert.deepEqual(parseBootstrap('127.0.0.1:9092'), [{ host: '127.0.0.1', port: 9092 }]);

const producer = new Producer({ bootstrap: '127.0.0.1:9', clientId: 'scratch-esm' });
await producer.close({ timeoutMs: 1000 });
assert.throws(() => new Producer({ bootstrap: '' }), (err) => err instanceof ConfigError && err instanceof KafkaWireError);

const batch = Buffer.from('${KNOWN_BATCH_HEX}', 'hex');
const decoded = await decode(batch);
assert.equal(decoded.title, 'RecordBatch v2');
const text = formatNodes(decoded.nodes);
assert.match(text, /0x36ff4dc3 \\(valid\\)/);
assert.match(text, /"hello"/);
assert.deepEqual(encodeRecordBatch([{ key: 'k', value: 'hello' }], { timestamp: 1700000000000 }), batch);
console.log('esm ok');
`;

const CJS_SMOKE = `
const assert = require('node:assert/strict');
const kafkaWire = require('kafka-wire');
const { decode, formatNodes } = require('kafka-wire/decode');
const { BrokerConnection } = require('kafka-wire/wire');
const { decodeRecordBatchesSync } = require('kafka-wire/protocol');
const { version } = require('kafka-wire/package.json');
const { Producer, ConfigError, KafkaWireError, BufferFullError } = kafkaWire;

assert.equal(typeof version, 'string');
assert.equal(typeof BrokerConnection, 'function');
assert.equal('decode' in kafkaWire, false);

(async () => {
  const producer = new Producer({ bootstrap: ['127.0.0.1:9'], clientId: 'scratch-cjs' });
  await producer.close({ timeoutMs: 1000 });
  assert.throws(() => new Producer({ bootstrap: '' }), (err) => err instanceof ConfigError && err instanceof KafkaWireError && !(err instanceof BufferFullError));

  const batch = Buffer.from('${KNOWN_BATCH_HEX}', 'hex');
  const decoded = await decode(batch);
  assert.match(formatNodes(decoded.nodes), /"hello"/);
  const { batches } = decodeRecordBatchesSync(batch);
  assert.equal(Buffer.from(batches[0].records[0].value).toString(), 'hello');
  console.log('cjs ok');
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;

/** Uses every entry's types; \`decode\` from the root must be a type error. */
const TS_USES = `
import { ConfigError, KafkaWireError, Producer, type ProducerOptions, type ProducerMetrics, type RecordMetadata } from 'kafka-wire';
// @ts-expect-error decode moved to kafka-wire/decode
import { decode as movedDecode } from 'kafka-wire';
import { decode, formatNodes, type Decoded, type PartitionContents, type TraceNode } from 'kafka-wire/decode';
import { BrokerConnection, Metadata, type BrokerConnectionOptions, type ResponseOf } from 'kafka-wire/wire';
import { encodeRecordBatch, RecordBatchBuilder, type DecodedRecord, type RecordInput } from 'kafka-wire/protocol';

export async function use(): Promise<string> {
  void movedDecode;
  const options: ProducerOptions = { bootstrap: '127.0.0.1:9', compression: 'lz4', bufferFullPolicy: 'drop-oldest' };
  const producer = new Producer(options);
  const sent: Promise<RecordMetadata> = producer.send({ topic: 't', value: 'v' });
  sent.catch(() => undefined);
  const metrics: ProducerMetrics = producer.metrics();
  const dropped: number = metrics.recordsDropped;
  await producer.close();
  try {
    new Producer({ bootstrap: '' });
  } catch (err) {
    if (err instanceof ConfigError) { const base: KafkaWireError = err; void base; }
  }
  const connect: BrokerConnectionOptions = { host: '127.0.0.1', port: 9 };
  const open: (o: BrokerConnectionOptions) => Promise<BrokerConnection> = BrokerConnection.open;
  const brokers: ResponseOf<typeof Metadata>['brokers'] = [];
  const records: RecordInput[] = [{ key: null, value: 'hello' }];
  const batch: Buffer = encodeRecordBatch(records, { timestamp: 0 });
  const builder: typeof RecordBatchBuilder = RecordBatchBuilder;
  const decoded: Decoded = await decode(batch);
  const nodes: readonly TraceNode[] = decoded.nodes;
  const read: DecodedRecord[] = ([] as PartitionContents['records']);
  void connect; void open; void brokers; void builder; void read;
  return formatNodes(nodes) + dropped;
}
`;

interface TsProject {
  mode: 'node16' | 'nodenext' | 'bundler' | 'nodenext-no-types';
  compilerOptions: Record<string, unknown>;
  files: Record<string, string>;
}

/** .cts files that load the package: by require() where TypeScript models require(esm), else by import(). */
const CTS_IMPORT = `export async function load(): Promise<string> {\n  const { Producer } = await import('kafka-wire');\n  const { decode } = await import('kafka-wire/decode');\n  return typeof Producer + typeof decode;\n}\n`;
const CTS_REQUIRE = `import kafkaWire = require('kafka-wire');\nimport decodeEntry = require('kafka-wire/decode');\nconst producer: kafkaWire.Producer = new kafkaWire.Producer({ bootstrap: '127.0.0.1:9' });\nvoid producer.close();\nexport const decode: typeof decodeEntry.decode = decodeEntry.decode;\n`;

export const TS_PROJECTS: readonly TsProject[] = [
  // node16 models Node without require(esm): CommonJS files reach the package through import().
  { mode: 'node16', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, files: { 'use.mts': TS_USES, 'load.cts': CTS_IMPORT } },
  { mode: 'nodenext', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' }, files: { 'use.mts': TS_USES, 'load.cts': CTS_IMPORT, 'require.cts': CTS_REQUIRE } },
  { mode: 'bundler', compilerOptions: { module: 'preserve', moduleResolution: 'bundler' }, files: { 'use.ts': TS_USES } },
  // TypeScript 6 and later load no @types package unless `types` names it (as `[]` here):
  // the declarations reference Node's types themselves, or Buffer is unknown in them.
  { mode: 'nodenext-no-types', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', types: [] }, files: { 'use.mts': TS_USES } },
];

export interface Scratch {
  dir: string;
}

/** A project in `workDir/scratch` with the tarball installed (optional codecs skipped) and the smoke files. */
export async function installScratch(workDir: string, tarball: string): Promise<Scratch> {
  const dir = join(workDir, 'scratch');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'kafka-wire-scratch', version: '0.0.0', private: true }, null, 2));
  await run(NPM, ['install', tarball, '--omit=optional', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline'], { cwd: dir });
  await writeFile(join(dir, 'smoke.mjs'), ESM_SMOKE);
  await writeFile(join(dir, 'smoke.cjs'), CJS_SMOKE);
  const typeRoots = [join(ROOT, 'node_modules', '@types')];
  for (const project of TS_PROJECTS) {
    const projectDir = join(dir, `ts-${project.mode}`);
    await mkdir(projectDir, { recursive: true });
    for (const [name, text] of Object.entries(project.files)) await writeFile(join(projectDir, name), text);
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        strict: true,
        noEmit: true,
        // Our declaration files are checked too, not skipped.
        skipLibCheck: false,
        types: ['node'],
        typeRoots,
        ...project.compilerOptions,
      },
      files: Object.keys(project.files),
    };
    await writeFile(join(projectDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  }
  return { dir };
}

export async function runSmoke(scratch: Scratch, kind: 'esm' | 'cjs'): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [kind === 'esm' ? 'smoke.mjs' : 'smoke.cjs'], { cwd: scratch.dir });
  return (stdout + stderr).trim();
}

/** tsc's diagnostics for one mode; empty when it type-checks. */
export async function typecheck(scratch: Scratch, mode: TsProject['mode']): Promise<string> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const { code, stdout, stderr } = await run(process.execPath, [tsc, '-p', join(scratch.dir, `ts-${mode}`, 'tsconfig.json')], { cwd: scratch.dir, allowFailure: true });
  return code === 0 ? '' : `${stdout}${stderr}`.trim() || `tsc exited ${code}`;
}

// ---- the command line -------------------------------------------------------------------------

export async function makeWorkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'kafka-wire-package-'));
}

async function main(): Promise<number> {
  const workDir = await makeWorkDir();
  const failures: string[] = [];
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await fn();
    console.log(`-- ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  };
  const report = (name: string, problems: readonly string[]): void => {
    for (const p of problems) console.log(`   ${p}`);
    if (problems.length > 0) failures.push(`${name}: ${problems.length} problem(s)`);
    else console.log('   ok');
  };
  try {
    const packed = await step('build and pack', () => buildAndPack(workDir));
    console.log(`   ${packed.tarball}: ${packed.files.length} files`);
    report('contents', contentProblems(packed));
    report('publint', await step('publint', () => publintMessages(packed.tarball)));
    const types = await step('attw (node10, node16 from CJS, node16 from ESM, bundler)', () =>
      attw(packed.tarball, moduleEntries(packed.manifest).map(([subpath]) => subpath)),
    );
    for (const line of types.summary) console.log(`   ${line}`);
    console.log(`   allowed: ${types.allowed} x CJSResolvesToESM in node16 from CJS (require(esm); see scripts/package/check.ts)`);
    report('attw', types.problems);
    const scratch = await step('npm install <tarball> in a scratch project', () => installScratch(workDir, packed.tarball));
    const [esm, cjs, ...checked] = await step('ESM, CommonJS, tsc node16/nodenext/bundler', () =>
      Promise.all([runSmoke(scratch, 'esm'), runSmoke(scratch, 'cjs'), ...TS_PROJECTS.map((p) => typecheck(scratch, p.mode))]),
    );
    console.log(`   ${esm}; ${cjs}`);
    TS_PROJECTS.forEach((p, i) => report(`tsc ${p.mode}`, checked[i] ? [checked[i]!] : []));
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (process.env['KEEP_SCRATCH']) console.log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  for (const f of failures) console.error(`FAILED ${f}`);
  return failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
