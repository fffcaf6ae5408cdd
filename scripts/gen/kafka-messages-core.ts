/**
 * The pure half of scripts/gen/kafka-messages.ts: Kafka's message definitions
 * (`common/message/*.json` in the kafka-clients jar) in, the source of
 * src/protocol/generated/ out. No file system, so the up-to-date test can run it in memory.
 *
 *   npx tsx scripts/gen/kafka-messages.ts [kafka-version]
 */

/** One field as Kafka's JSON writes it. */
export interface KafkaField {
  readonly name: string;
  readonly type: string;
  readonly versions: string;
  readonly about?: string;
  readonly fields?: readonly KafkaField[];
  readonly nullableVersions?: string;
  readonly default?: string | number | boolean;
  readonly ignorable?: boolean;
  readonly tag?: number;
  readonly taggedVersions?: string;
  readonly flexibleVersions?: string;
  readonly mapKey?: boolean;
  readonly entityType?: string;
  readonly zeroCopy?: boolean;
  /** `//` comment lines just above the field in the JSON. */
  readonly comments?: readonly string[];
}

export interface KafkaMessage {
  readonly apiKey?: number;
  readonly type: string;
  readonly name: string;
  readonly validVersions: string;
  readonly flexibleVersions?: string;
  readonly latestVersionUnstable?: boolean;
  readonly listeners?: readonly string[];
  readonly fields?: readonly KafkaField[];
  readonly commonStructs?: readonly { readonly name: string; readonly versions: string; readonly fields: readonly KafkaField[] }[];
  /** The `//` comment lines after the licence header, in order. */
  readonly comments: readonly string[];
}

const PRIMITIVES = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid']);
const INTEGERS = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32']);

/** Parses one JSON file: `//` comment lines are dropped (and kept aside, after the licence, as comments). */
export function parseMessage(text: string): KafkaMessage {
  const lines = text.split('\n');
  const body: string[] = [];
  const comments: string[] = [];
  let started = false;
  let pending: string[] = [];
  for (const line of lines) {
    const m = /^\s*\/\/ ?(.*)$/.exec(line);
    if (m) {
      if (started) pending.push(m[1]!.trimEnd());
      continue;
    }
    if (!started && line.trim().startsWith('{')) started = true;
    const opensField = /^(\s*)\{(\s*)"name"/.exec(line);
    if (pending.length > 0 && opensField) {
      // A comment just above a field is about that field: it travels with it.
      body.push(line.replace('{', `{ "comments": ${JSON.stringify(pending)},`));
    } else {
      comments.push(...pending);
      body.push(line);
    }
    pending = [];
  }
  comments.push(...pending);
  const parsed = JSON.parse(body.join('\n')) as Omit<KafkaMessage, 'comments'>;
  // Drop leading and trailing blank comment lines.
  while (comments.length > 0 && comments[0] === '') comments.shift();
  while (comments.length > 0 && comments[comments.length - 1] === '') comments.pop();
  return { ...parsed, comments };
}

/** `TopicData` → `topicData`, as Kafka's Java generator and our hand-written APIs name fields. */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** `AddPartitionsToTxn` → `add-partitions-to-txn`. */
export function fileNameOf(apiName: string): string {
  return apiName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function commentText(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Kafka's `default` string as a TypeScript literal for a field of `type`. */
function defaultLiteral(f: KafkaField): string {
  const d = f.default!;
  const where = `${f.name}: default ${JSON.stringify(d)}`;
  if (d === 'null') {
    if (f.nullableVersions === undefined) throw new Error(`${where} on a field that is never nullable`);
    return 'null';
  }
  if (f.type === 'bool') {
    if (d === true || d === 'true') return 'true';
    if (d === false || d === 'false') return 'false';
    throw new Error(`${where} is not a boolean`);
  }
  if (f.type === 'int64') {
    const n = BigInt(d as string | number);
    return `${n}n`;
  }
  if (INTEGERS.has(f.type) || f.type === 'float64') {
    const n = Number(d);
    if (!Number.isFinite(n) || (INTEGERS.has(f.type) && !Number.isInteger(n))) throw new Error(`${where} is not a number`);
    return String(n);
  }
  if (f.type === 'string') return quote(String(d));
  throw new Error(`${where}: no default of this type is expressible`);
}

interface Context {
  readonly message: KafkaMessage;
  /** Common structs by Kafka type name, and the constant each is emitted as. */
  readonly common: ReadonlyMap<string, { readonly constName: string; readonly fields: readonly KafkaField[] }>;
}

/** What a reader should know about a field beyond its type: Kafka's about text and annotations. */
function fieldComment(f: KafkaField): string | undefined {
  const notes: string[] = [];
  if (f.mapKey) notes.push('map key');
  if (f.entityType) notes.push(`entity: ${f.entityType}`);
  if (f.zeroCopy) notes.push('zero copy');
  const about = f.about ? commentText(f.about) : '';
  const extra = notes.length > 0 ? `(${notes.join('; ')})` : '';
  const text = [about, extra].filter(Boolean).join(' ');
  return text || undefined;
}

function optionsOf(f: KafkaField): string {
  const o: string[] = [];
  if (f.nullableVersions !== undefined) o.push(`nullable: ${quote(f.nullableVersions)}`);
  if (f.tag !== undefined) o.push(`tag: ${f.tag}`);
  if (f.taggedVersions !== undefined) o.push(`taggedVersions: ${quote(f.taggedVersions)}`);
  if (f.default !== undefined) o.push(`default: ${defaultLiteral(f)}`);
  if (f.ignorable) o.push('ignorable: true');
  if (f.flexibleVersions !== undefined) {
    if (f.flexibleVersions !== 'none') throw new Error(`${f.name}: flexibleVersions ${f.flexibleVersions} is not expressible (only 'none' is)`);
    o.push(`flexibleVersions: 'none'`);
  }
  return o.length > 0 ? `{ ${o.join(', ')} }` : '';
}

/** The element list of a struct type: inline fields, or a common struct's constant. */
function structRef(ctx: Context, f: KafkaField, typeName: string, indent: string): string {
  if (f.fields) return fieldList(ctx, f.fields, indent);
  const common = ctx.common.get(typeName);
  if (!common) throw new Error(`${ctx.message.name}.${f.name}: struct type ${typeName} has no fields and is not a common struct`);
  return common.constName;
}

function typeExpr(ctx: Context, f: KafkaField, indent: string): string {
  const array = f.type.startsWith('[]');
  const base = array ? f.type.slice(2) : f.type;
  if (PRIMITIVES.has(base)) {
    if (f.fields) throw new Error(`${ctx.message.name}.${f.name}: primitive type with fields`);
    return array ? `arrayOf(${quote(base)})` : quote(base);
  }
  if (base === 'records' || /^[a-z]/.test(base)) throw new Error(`${ctx.message.name}.${f.name}: unknown type ${f.type}`);
  const inner = structRef(ctx, f, base, indent);
  return array ? `arrayOf(${inner})` : `struct(${inner})`;
}

function fieldList(ctx: Context, fields: readonly KafkaField[], indent: string): string {
  if (fields.length === 0) return '[]';
  const inner = `${indent}  `;
  const lines = fields.map((f) => fieldExpr(ctx, f, inner));
  return `[\n${lines.join('\n')}\n${indent}]`;
}

function fieldExpr(ctx: Context, f: KafkaField, indent: string): string {
  const comment = fieldComment(f);
  const notes = (f.comments ?? []).map((c) => `${indent}//${c ? ` ${c}` : ''}\n`).join('');
  const head = notes + (comment ? `${indent}// ${comment}\n` : '');
  const base = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
  const structName = PRIMITIVES.has(base) ? '' : ` // ${f.type}`;
  const type = typeExpr(ctx, f, `${indent}  `);
  const options = optionsOf(f);
  const args = [quote(camelCase(f.name)), type, quote(f.versions), ...(options ? [options] : [])];
  if (!type.includes('\n')) return `${head}${indent}field(${args.join(', ')}),${structName}`;
  return `${head}${indent}field(${structName}\n${args.map((a) => `${indent}  ${a},`).join('\n')}\n${indent}),`;
}

/** Common structs in an order where each comes after those it uses. */
function orderCommon(message: KafkaMessage): { name: string; fields: readonly KafkaField[] }[] {
  const all = new Map((message.commonStructs ?? []).map((c) => [c.name, c]));
  const done = new Set<string>();
  const out: { name: string; fields: readonly KafkaField[] }[] = [];
  const visit = (name: string, stack: string[]): void => {
    if (done.has(name)) return;
    if (stack.includes(name)) throw new Error(`${message.name}: common struct ${name} refers to itself`);
    const c = all.get(name)!;
    const uses = (fields: readonly KafkaField[]): void => {
      for (const f of fields) {
        const base = f.type.replace(/^\[\]/, '');
        if (!f.fields && all.has(base)) visit(base, [...stack, name]);
        if (f.fields) uses(f.fields);
      }
    };
    uses(c.fields);
    done.add(name);
    out.push(c);
  };
  for (const name of all.keys()) visit(name, []);
  return out;
}

export interface GeneratedApi {
  readonly key: number;
  /** e.g. `Produce`: the exported constant. */
  readonly name: string;
  readonly file: string;
  readonly source: string;
}

function commentBlock(lines: readonly string[], indent = ''): string[] {
  return lines.map((l) => `${indent} *${l ? ` ${l.replace(/\*\//g, '* /')}` : ''}`);
}

/** One API's file from its request and response definitions. */
export function generateApi(
  request: KafkaMessage,
  response: KafkaMessage,
  kafkaVersion: string,
  sources: readonly string[],
  clientThrottlesFrom?: number,
): GeneratedApi {
  const key = request.apiKey!;
  const name = request.name.replace(/Request$/, '');
  if (response.name !== `${name}Response` || response.apiKey !== key) throw new Error(`${request.name} and ${response.name} do not pair`);
  if (request.validVersions !== response.validVersions) throw new Error(`${name}: request versions ${request.validVersions}, response ${response.validVersions}`);
  const flexible = request.flexibleVersions ?? 'none';
  if (flexible !== (response.flexibleVersions ?? 'none')) throw new Error(`${name}: request and response flexible versions differ`);

  const out: string[] = [];
  out.push(`// Generated by scripts/gen/kafka-messages.ts from Apache Kafka ${kafkaVersion} (${sources.join(', ')}). Do not edit.`);
  out.push('// Regenerate with: npx tsx scripts/gen/kafka-messages.ts');
  out.push(`import { defineApi } from '../api.js';`);
  const body: string[] = [];

  const sections: { label: string; message: KafkaMessage }[] = [
    { label: 'request', message: request },
    { label: 'response', message: response },
  ];
  const used = { arrayOf: false, struct: false };
  const fieldsSource: Record<string, string> = {};
  const constants: string[] = [];
  for (const { label, message } of sections) {
    const common = new Map<string, { constName: string; fields: readonly KafkaField[] }>();
    const ctx: Context = { message, common };
    for (const c of orderCommon(message)) {
      const constName = `${label}${c.name}`;
      const list = fieldList(ctx, c.fields, '');
      common.set(c.name, { constName, fields: c.fields });
      constants.push(`/** ${message.name}'s common struct ${c.name}. */\nconst ${constName} = ${list} as const;`);
    }
    fieldsSource[label] = fieldList(ctx, message.fields ?? [], '  ');
  }
  const all = [...constants, fieldsSource['request']!, fieldsSource['response']!].join('\n');
  used.arrayOf = /\barrayOf\(/.test(all);
  used.struct = /\bstruct\(/.test(all);
  const imports = [...(used.arrayOf ? ['arrayOf'] : []), 'field', ...(used.struct ? ['struct'] : [])];
  out.push(`import { ${imports.join(', ')} } from '../schema.js';`);
  out.push('');
  if (constants.length > 0) body.push(...constants, '');

  const doc: string[] = [`${name} (key ${key}): versions ${request.validVersions}, flexible ${flexible}.`];
  if (request.listeners) doc.push(`Listeners: ${request.listeners.join(', ')}.`);
  if (request.latestVersionUnstable || response.latestVersionUnstable) doc.push('Kafka marks its latest version unstable (latestVersionUnstable).');
  for (const { label, message } of sections) {
    if (message.comments.length > 0) doc.push('', `${label[0]!.toUpperCase()}${label.slice(1)}:`, ...message.comments);
  }
  body.push('/**', ...commentBlock(doc), ' */');
  body.push(`export const ${name} = defineApi({`);
  body.push(`  key: ${key},`);
  body.push(`  name: ${quote(name)},`);
  body.push(`  versions: ${quote(request.validVersions)},`);
  body.push(`  flexible: ${quote(flexible)},`);
  if (clientThrottlesFrom !== undefined) {
    body.push(`  // The broker answers at once and the client waits out the throttle (KIP-219): Kafka's ${name}Response.shouldClientThrottle.`);
    body.push(`  clientThrottlesFrom: ${clientThrottlesFrom},`);
  }
  body.push(`  request: ${fieldsSource['request']},`);
  body.push(`  response: ${fieldsSource['response']},`);
  body.push('});');
  return { key, name, file: `${fileNameOf(name)}.ts`, source: `${out.join('\n')}\n${body.join('\n')}\n` };
}

/**
 * The request and response headers as field lists. src/protocol/frame.ts writes and reads
 * the headers itself (they are on the hot path); test/protocol/generated-roundtrip.test.ts
 * checks it against these. RequestHeader's ClientId keeps its int16 length in flexible
 * versions (`flexibleVersions: 'none'`).
 */
function generateHeaders(headers: readonly [string, KafkaMessage][], kafkaVersion: string): string {
  const out: string[] = [
    `// Generated by scripts/gen/kafka-messages.ts from Apache Kafka ${kafkaVersion} (${headers.map(([f]) => f).join(', ')}). Do not edit.`,
    '// Regenerate with: npx tsx scripts/gen/kafka-messages.ts',
    `import { field } from '../schema.js';`,
    '',
  ];
  for (const [, message] of headers) {
    const ctx: Context = { message, common: new Map() };
    const doc = [`${message.name}: versions ${message.validVersions}, flexible ${message.flexibleVersions ?? 'none'}.`, ...(message.comments.length > 0 ? ['', ...message.comments] : [])];
    out.push('/**', ...commentBlock(doc), ' */');
    out.push(`export const ${message.name} = {`);
    out.push(`  versions: ${quote(message.validVersions)},`);
    out.push(`  flexible: ${quote(message.flexibleVersions ?? 'none')},`);
    out.push(`  fields: ${fieldList(ctx, message.fields ?? [], '  ')},`);
    out.push('} as const;', '');
  }
  return out.join('\n');
}

/**
 * Every API from the message files (`name` → text, e.g. `ProduceRequest.json`), with the
 * first version from which the client throttles itself, by API key (that is in Kafka's
 * Java code, not in its JSON: see kafka-messages-java.ts), plus
 * `headers.ts` and `index.ts`: relative file name → source. Files that are neither
 * requests, responses nor headers (metadata records and the like) are left out.
 */
export function generateMessages(
  files: ReadonlyMap<string, string>,
  kafkaVersion: string,
  clientThrottlesFrom: ReadonlyMap<number, number> = new Map(),
): Map<string, string> {
  const byKey = new Map<number, { request?: [string, KafkaMessage]; response?: [string, KafkaMessage] }>();
  const headers: [string, KafkaMessage][] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!file.endsWith('.json')) continue;
    const m = parseMessage(text);
    if (m.type === 'header') headers.push([file, m]);
    if (m.type !== 'request' && m.type !== 'response') continue;
    if (m.apiKey === undefined) throw new Error(`${file}: a ${m.type} without an apiKey`);
    const entry = byKey.get(m.apiKey) ?? {};
    entry[m.type] = [file, m];
    byKey.set(m.apiKey, entry);
  }
  const out = new Map<string, string>();
  const apis: GeneratedApi[] = [];
  for (const key of [...byKey.keys()].sort((a, b) => a - b)) {
    const { request, response } = byKey.get(key)!;
    if (!request || !response) throw new Error(`API key ${key} lacks its ${request ? 'response' : 'request'}`);
    const api = generateApi(request[1], response[1], kafkaVersion, [request[0], response[0]], clientThrottlesFrom.get(key));
    apis.push(api);
    out.set(api.file, api.source);
  }
  if (headers.length > 0) out.set('headers.ts', generateHeaders(headers, kafkaVersion));
  const index = [
    `// Generated by scripts/gen/kafka-messages.ts from Apache Kafka ${kafkaVersion}. Do not edit.`,
    '// Regenerate with: npx tsx scripts/gen/kafka-messages.ts',
    '//',
    `// Every API Kafka ${kafkaVersion} defines (${apis.length}), each at every version it defines, from Kafka's`,
    '// own message definitions. The producer does not load these: it uses the hand-written',
    '// definitions in ../apis/, which test/protocol/generated-equivalence.test.ts checks against',
    '// these. src/protocol/registry.ts is the way in for the decode tool and the proxy.',
    `import type { AnyApi } from '../api.js';`,
    ...apis.map((a) => `import { ${a.name} } from './${a.file.replace(/\.ts$/, '.js')}';`),
    '',
    `export { ${apis.map((a) => a.name).join(', ')} };`,
    '',
    `/** The Kafka release these definitions come from. */`,
    `export const GENERATED_KAFKA_VERSION = ${quote(kafkaVersion)};`,
    '',
    '/** Every API, in key order. */',
    `export const GENERATED_APIS: readonly AnyApi[] = [`,
    ...apis.map((a) => `  ${a.name},`),
    '];',
    '',
  ].join('\n');
  out.set('index.ts', index);
  return out;
}
