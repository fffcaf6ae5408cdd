/**
 * Broker addresses in answers, found through the decoder's trace and replaced in place.
 *
 * Every struct of an answer that holds `host`, `port` and a node id (`nodeId` or
 * `brokerId`) is a broker address: Metadata's brokers, FindCoordinator's node (v0-3) and
 * coordinators (v4+), DescribeCluster's brokers, the KIP-951 `nodeEndpoints` of Produce
 * (v10+) and Fetch (v16+). Only the bytes of `host` and `port` change; every other byte
 * of the frame is copied as it came. A new host may be longer or shorter than the old
 * one, so the frame's size prefix and the size of every tagged field around a rewritten
 * address (nodeEndpoints is tagged) are written anew.
 */
import type { TraceNode } from '../protocol/codec.js';
import { sizeOfUvarint } from '../protocol/sizes.js';

/** API keys whose answers carry broker addresses (and from which versions). */
export const ADDRESS_APIS: ReadonlyMap<number, number> = new Map([
  [0, 10], // Produce: nodeEndpoints (tagged) from v10
  [1, 16], // Fetch: nodeEndpoints (tagged) from v16
  [3, 0], // Metadata: brokers
  [10, 0], // FindCoordinator: node (v0-3), coordinators (v4+)
  [60, 0], // DescribeCluster: brokers
]);

/** Whether answers of this API and version may carry broker addresses. */
export function carriesAddresses(apiKey: number, version: number): boolean {
  const from = ADDRESS_APIS.get(apiKey);
  return from !== undefined && version >= from;
}

export interface FoundAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly hostNode: TraceNode;
  readonly portNode: TraceNode;
  /** Tagged fields around the address, outermost first: their sizes change with the host. */
  readonly taggedAround: readonly TraceNode[];
}

const ID_FIELD = /^(node_?id|broker_?id)$/i;

function isTaggedField(node: TraceNode): boolean {
  return node.tag !== undefined || / \(tag \d+\)$/.test(node.field) || node.type === 'unknown_tagged_field';
}

/** Every broker address in an annotated answer (offsets as the trace gives them). */
export function findAddresses(nodes: readonly TraceNode[]): FoundAddress[] {
  const found: FoundAddress[] = [];
  const walk = (list: readonly TraceNode[], tagged: readonly TraceNode[]): void => {
    const byName = new Map<string, TraceNode>();
    for (const n of list) byName.set(n.field.toLowerCase(), n);
    const host = byName.get('host');
    const port = byName.get('port');
    const id = list.find((n) => ID_FIELD.test(n.field));
    // A node id of -1 (FindCoordinator's answer to a key it has no coordinator for) is no broker.
    if (host && port && id && typeof host.value === 'string' && typeof port.value === 'number' && typeof id.value === 'number' && id.value >= 0 && host.value !== '' && port.value > 0) {
      found.push({ nodeId: id.value, host: host.value, port: port.value, hostNode: host, portNode: port, taggedAround: tagged });
    }
    for (const n of list) if (n.children) walk(n.children, isTaggedField(n) ? [...tagged, n] : tagged);
  };
  walk(nodes, []);
  return found;
}

interface Edit {
  readonly offset: number;
  readonly length: number;
  readonly bytes: Buffer;
}

function uvarintBytes(value: number): Buffer {
  const out = Buffer.alloc(sizeOfUvarint(value));
  let v = value >>> 0;
  let i = 0;
  while (v >= 0x80) {
    out[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[i] = v;
  return out;
}

function readUvarint(bytes: Buffer, offset: number): { value: number; length: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    const b = bytes[offset + i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { value, length: i + 1 };
    scale *= 0x80;
  }
  throw new RangeError(`varint at offset ${offset} is longer than 5 bytes`);
}

/** A host string in the wire form its trace node names (STRING or COMPACT_STRING). */
function encodeHost(type: string, host: string): Buffer {
  const text = Buffer.from(host, 'utf8');
  if (type.startsWith('compact')) return Buffer.concat([uvarintBytes(text.length + 1), text]);
  const out = Buffer.alloc(2 + text.length);
  out.writeInt16BE(text.length, 0);
  text.copy(out, 2);
  return out;
}

export interface AddressChange {
  readonly nodeId: number;
  readonly from: { readonly host: string; readonly port: number };
  readonly to: { readonly host: string; readonly port: number };
}

/**
 * Replaces addresses in `frame` (a whole answer, size prefix included, as annotated into
 * `nodes`). `map` gives the new address of each one, or undefined to leave it. Returns the
 * frame unchanged (the same buffer) when nothing changes.
 */
export function rewriteAddresses(
  frame: Buffer,
  nodes: readonly TraceNode[],
  map: (found: FoundAddress) => { host: string; port: number } | undefined,
): { frame: Buffer; changes: AddressChange[] } {
  const edits: Edit[] = [];
  const changes: AddressChange[] = [];
  // Size growth inside each tagged field, keyed by the field's trace node.
  const growth = new Map<TraceNode, number>();
  for (const found of findAddresses(nodes)) {
    const to = map(found);
    if (!to || (to.host === found.host && to.port === found.port)) continue;
    changes.push({ nodeId: found.nodeId, from: { host: found.host, port: found.port }, to });
    const host = encodeHost(found.hostNode.type, to.host);
    edits.push({ offset: found.hostNode.offset, length: found.hostNode.length, bytes: host });
    const port = Buffer.alloc(4);
    port.writeInt32BE(to.port, 0);
    edits.push({ offset: found.portNode.offset, length: 4, bytes: port });
    for (const t of found.taggedAround) growth.set(t, (growth.get(t) ?? 0) + host.length - found.hostNode.length);
  }
  if (edits.length === 0) return { frame, changes };
  // A tagged field is `tag, size, bytes`; nested ones grow with what they hold, so
  // the innermost (the ones starting last, as they nest) are sized first.
  const tagged = [...growth.keys()].sort((a, b) => b.offset - a.offset);
  for (const t of tagged) {
    const tag = readUvarint(frame, t.offset);
    const size = readUvarint(frame, t.offset + tag.length);
    const grownBy = growth.get(t)!;
    const bytes = uvarintBytes(size.value + grownBy);
    edits.push({ offset: t.offset + tag.length, length: size.length, bytes });
    // The size varint itself may change length: the fields around this one grow by that too.
    const extra = bytes.length - size.length;
    if (extra !== 0) for (const outer of tagged) if (outer !== t && outer.offset < t.offset && outer.offset + outer.length >= t.offset + t.length) growth.set(outer, growth.get(outer)! + extra);
  }
  edits.sort((a, b) => a.offset - b.offset);
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(frame.subarray(at, e.offset), e.bytes);
    at = e.offset + e.length;
  }
  parts.push(frame.subarray(at));
  const out = Buffer.concat(parts);
  out.writeInt32BE(out.length - 4, 0);
  return { frame: out, changes };
}
