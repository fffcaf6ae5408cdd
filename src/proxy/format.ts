/**
 * How exchanges are shown: a one-line summary (API, version, correlation id, topics and
 * partitions, error codes by name, sizes, latency), the whole annotation (`--verbose`),
 * or one JSON object per line (`--json`); and the filters `--api`, `--topic`,
 * `--errors-only`.
 */
import { formatNodes, toJson } from '../decode/format.js';
import { API_NAMES } from '../protocol/api-keys.js';
import type { TraceNode } from '../protocol/codec.js';
import { errorCodeInfo } from '../protocol/error-codes.js';
import type { Exchange, FrameSide, ProxyStats } from './exchange.js';

const TOPIC_NAME = /^(name|topic|topic_?name)$/i;
const TOPIC_ID = /^topic_?id$/i;
const PARTITION = /^(partition_?index|partition|partition_?id|index)$/i;
const ERROR_CODE = /error_?code$/i;

/** Topics (by name, or id where the version has no names) and the partitions named under each. */
export function topicsOf(ex: Exchange): Map<string, Set<number>> {
  const topics = new Map<string, Set<number>>();
  const partitionsUnder = (nodes: readonly TraceNode[], into: Set<number>): void => {
    for (const n of nodes) {
      if (n.children) partitionsUnder(n.children, into);
      else if (PARTITION.test(n.field) && typeof n.value === 'number') into.add(n.value);
    }
  };
  const walk = (nodes: readonly TraceNode[], inTopics: boolean): void => {
    const name = inTopics ? nodes.find((n) => TOPIC_NAME.test(n.field) && typeof n.value === 'string') : undefined;
    const id = inTopics && !name ? nodes.find((n) => TOPIC_ID.test(n.field) && typeof n.value === 'string') : undefined;
    const topic = name ? (name.value as string) : id ? (ex.topicNames?.get(id.value as string) ?? (id.value as string)) : undefined;
    if (topic !== undefined && topic !== '' && topic !== 'AAAAAAAAAAAAAAAAAAAAAA') {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      partitionsUnder(nodes, set);
      return;
    }
    for (const n of nodes) if (n.children) walk(n.children, inTopics || /topic/i.test(n.field));
  };
  for (const s of [ex.request, ex.response]) if (s?.decoded) walk(bodyOf(s.decoded.nodes), false);
  return topics;
}

function bodyOf(nodes: readonly TraceNode[]): readonly TraceNode[] {
  return nodes.find((n) => n.field.startsWith('body'))?.children ?? [];
}

/** Non-zero error codes in the answer, by name, with how often each came. */
export function errorsOf(ex: Exchange): Map<string, number> {
  const errors = new Map<string, number>();
  const walk = (nodes: readonly TraceNode[]): void => {
    for (const n of nodes) {
      if (n.children) walk(n.children);
      else if (ERROR_CODE.test(n.field) && typeof n.value === 'number' && n.value !== 0) {
        const name = errorCodeInfo(n.value).name;
        errors.set(name, (errors.get(name) ?? 0) + 1);
      }
    }
  };
  if (ex.response?.decoded) walk(bodyOf(ex.response.decoded.nodes));
  return errors;
}

/** Whether either side failed to decode or holds fields the definitions do not know. */
export function hasDecodeProblem(ex: Exchange): boolean {
  return [ex.request, ex.response].some((s) => s !== undefined && (s.error !== undefined || !s.decoded || s.unknownFields > 0 || s.trailing > 0));
}

export interface ExchangeFilter {
  /** API names (any case) or keys. */
  apis?: readonly string[];
  topics?: readonly string[];
  errorsOnly?: boolean;
}

/** Checks the filter's API names; throws with the unknown one. */
export function apiKeysOf(apis: readonly string[]): Set<number> {
  const keys = new Set<number>();
  for (const item of apis.flatMap((a) => a.split(','))) {
    const a = item.trim();
    if (a === '') continue;
    if (/^\d+$/.test(a)) {
      keys.add(Number(a));
      continue;
    }
    const found = [...API_NAMES].find(([, name]) => name.toLowerCase() === a.toLowerCase());
    if (!found) throw new Error(`unknown API ${JSON.stringify(a)} (an API name such as Produce or Metadata, or its key)`);
    keys.add(found[0]);
  }
  return keys;
}

export function matcher(filter: ExchangeFilter): (ex: Exchange) => boolean {
  const keys = filter.apis && filter.apis.length > 0 ? apiKeysOf(filter.apis) : undefined;
  const topics = filter.topics && filter.topics.length > 0 ? new Set(filter.topics) : undefined;
  return (ex) => {
    if (keys && !keys.has(ex.apiKey)) return false;
    if (topics && ![...topicsOf(ex).keys()].some((t) => topics.has(t))) return false;
    if (filter.errorsOnly && errorsOf(ex).size === 0 && !hasDecodeProblem(ex) && ex.noResponse !== 'connection closed') return false;
    return true;
  };
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function sideProblem(what: string, s: FrameSide | undefined): string | undefined {
  if (!s) return undefined;
  if (s.error !== undefined) return `${what} UNDECODED (${s.error})`;
  if (s.note !== undefined) return `(${what}: ${s.note})`;
  if (s.trailing > 0) return `${what} has ${s.trailing} bytes after its last field that no field accounts for`;
  if (s.unknownFields > 0) return `${what} has ${s.unknownFields} unknown tagged field${s.unknownFields === 1 ? '' : 's'}`;
  return undefined;
}

/** Partition numbers, runs of three or more as a range: `0-152`, `0,2,5-9`. */
export function partitionRanges(partitions: Iterable<number>): string {
  const sorted = [...partitions].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) out.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) out.push(String(sorted[k]));
    i = j + 1;
  }
  return out.join(',');
}

function topicText(topics: Map<string, Set<number>>): string {
  const parts = [...topics].map(([t, ps]) => (ps.size === 0 ? t : `${t}[${partitionRanges(ps)}]`));
  if (parts.length > 4) return `${parts.slice(0, 4).join(' ')} +${parts.length - 4} more`;
  return parts.join(' ');
}

/** One line: `12:00:00.123 #1 Produce v11 id=4 client=app topics=t[0] 210B → 75B 1.4ms`. */
export function summaryLine(ex: Exchange): string {
  const at = ex.request?.at ?? ex.response?.at ?? Date.now();
  const parts = [time(at), `#${ex.connection}`, ex.apiKey < 0 ? '?' : `${ex.api} v${ex.version}`, `id=${ex.correlationId}`];
  if (ex.clientId) parts.push(`client=${ex.clientId}`);
  const topics = topicText(topicsOf(ex));
  if (topics) parts.push(`topics=${topics}`);
  const sizes = `${ex.request ? `${ex.request.bytes.length}B` : '?'} → ${ex.response ? `${ex.response.bytes.length}B` : ex.noResponse === 'acks=0' ? 'no answer (acks=0)' : ex.noResponse === 'connection closed' ? 'no answer (connection closed)' : '?'}`;
  parts.push(sizes);
  if (ex.latencyMs !== undefined) parts.push(`${ex.latencyMs}ms`);
  const errors = errorsOf(ex);
  if (errors.size > 0) parts.push(`errors=${[...errors].map(([n, c]) => (c > 1 ? `${n}×${c}` : n)).join(',')}`);
  if (ex.rewrites.length > 0) parts.push(`rewrote ${ex.rewrites.map((r) => `${r.nodeId}:${r.from.host}:${r.from.port}→${r.to.port}`).join(' ')}`);
  for (const p of [sideProblem('request', ex.request), sideProblem('answer', ex.response)]) if (p) parts.push(p);
  if (!ex.request) parts.push('(request never seen)');
  return parts.join(' ');
}

/**
 * The trace with each topic id the exchanges before named (Produce v13+ and Fetch v13+
 * carry ids only) followed by its name: `Wb2tCz3TRnS0IJ6Ix9JcbQ (orders)`.
 */
function withTopicNames(nodes: TraceNode[], names: ReadonlyMap<string, string> | undefined): TraceNode[] {
  if (!names || names.size === 0) return nodes;
  return nodes.map((n) => {
    const named = n.field === 'topicId' && typeof n.value === 'string' && names.has(n.value) ? { ...n, value: `${n.value} (${names.get(n.value)})` } : n;
    return n.children ? { ...named, children: withTopicNames(n.children, names) } : named;
  });
}

/** The summary line, then each side's whole annotation. */
export function verboseText(ex: Exchange): string {
  let out = `${summaryLine(ex)}\n`;
  for (const [what, s] of [
    ['request', ex.request],
    ['answer', ex.response],
  ] as const) {
    if (!s) continue;
    if (s.decoded) {
      out += `  ${what}: ${s.decoded.api}${s.decoded.kind === 'request' ? 'Request' : 'Response'} v${s.decoded.version}, ${s.bytes.length} bytes\n`;
      out += formatNodes(withTopicNames(s.decoded.nodes, ex.topicNames)).replace(/^(?=.)/gm, '    ');
      if (s.note !== undefined) out += `    (${s.note})\n`;
      if (s.trailing > 0) out += `    (${s.trailing} bytes after the last field that no field accounts for: ${s.bytes.subarray(s.bytes.length - s.trailing).toString('hex')})\n`;
    }
    if (s.error !== undefined) {
      out += `  ${what}: could not decode: ${s.error}; ${s.bytes.length} bytes: ${s.bytes.subarray(0, 64).toString('hex')}${s.bytes.length > 64 ? '…' : ''}\n`;
    }
  }
  return out;
}

/** One JSON object (no newline); with `verbose`, each side's trace too. */
export function jsonLine(ex: Exchange, verbose = false): string {
  const side = (s: FrameSide | undefined) =>
    s && {
      at: new Date(s.at).toISOString(),
      bytes: s.bytes.length,
      decoded: s.decoded !== undefined && s.error === undefined,
      ...(s.note !== undefined ? { note: s.note } : {}),
      ...(s.trailing > 0 ? { trailingBytes: s.trailing } : {}),
      ...(s.error !== undefined ? { error: s.error } : {}),
      unknownFields: s.unknownFields,
      ...(verbose && s.decoded ? { nodes: s.decoded.nodes } : {}),
      ...(verbose && !s.decoded ? { hex: s.bytes.toString('hex') } : {}),
    };
  const value = {
    connection: ex.connection,
    broker: ex.broker,
    api: ex.api,
    apiKey: ex.apiKey,
    version: ex.version,
    correlationId: ex.correlationId,
    clientId: ex.clientId,
    topics: Object.fromEntries([...topicsOf(ex)].map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)])),
    errors: Object.fromEntries(errorsOf(ex)),
    latencyMs: ex.latencyMs ?? null,
    noResponse: ex.noResponse ?? null,
    rewrites: ex.rewrites,
    // The nodes keep each topic id as sent (a machine reads them); its name, when known, is here.
    ...(verbose ? { topicNames: namesOfIds(ex) } : {}),
    request: side(ex.request) ?? null,
    response: side(ex.response) ?? null,
  };
  return JSON.stringify(JSON.parse(toJson(value)));
}

/** The names of the topic ids in the exchange's annotations, as far as the exchanges before gave them. */
function namesOfIds(ex: Exchange): Record<string, string> {
  const names: Record<string, string> = {};
  const known = ex.topicNames;
  if (!known || known.size === 0) return names;
  const visit = (nodes: readonly TraceNode[]): void => {
    for (const n of nodes) {
      if (n.field === 'topicId' && typeof n.value === 'string' && known.has(n.value)) names[n.value] = known.get(n.value)!;
      if (n.children) visit(n.children);
    }
  };
  for (const side of [ex.request, ex.response]) if (side?.decoded) visit(side.decoded.nodes);
  return names;
}

/** The closing line of a proxy run or replay: did it decode everything it saw? */
export function statsLine(s: ProxyStats): string {
  // Decoded "as far as Kafka defines them": an ApiVersions request newer than the
  // definitions, whose body no broker reads either (KIP-511); counted among the decoded.
  const partly = s.beyondDefinitions > 0 ? ` (${s.beyondDefinitions} of them ApiVersions requests newer than Kafka's definitions, read up to their header)` : '';
  return `${s.exchanges} exchanges, ${s.frames} frames: ${s.decoded} decoded${partly}, ${s.undecoded} not decoded, ${s.unknownFields} unknown tagged fields, ${s.withTrailingBytes} with bytes after their last field; ${s.rewrites} addresses rewritten`;
}
