/**
 * SASL tokens never leave the proxy in the clear: a client that authenticates through the
 * proxy (its SaslAuthenticate requests are forwarded like any other) sends its password
 * (PLAIN) or proofs (SCRAM) in `auth_bytes`. What is shown and printed as JSON has them
 * replaced by a note of their length; what is recorded, by as many `*`; what is forwarded
 * is untouched.
 */
import { annotateRequest, annotateResponse, type AnnotatedFrame } from '../decode/annotate-frame.js';
import type { TraceNode } from '../protocol/codec.js';

export const SASL_AUTHENTICATE = 36;
const STAR = 0x2a;

function authBytesNodes(nodes: readonly TraceNode[]): TraceNode[] {
  const found: TraceNode[] = [];
  for (const n of nodes) {
    if (/^auth_?bytes$/i.test(n.field)) found.push(n);
    if (n.children) found.push(...authBytesNodes(n.children));
  }
  return found;
}

/** The trace with every auth_bytes value replaced by a note of its length. */
export function redactTrace(frame: AnnotatedFrame): AnnotatedFrame {
  if (frame.apiKey !== SASL_AUTHENTICATE) return frame;
  const walk = (nodes: readonly TraceNode[]): TraceNode[] =>
    nodes.map((n) => {
      if (/^auth_?bytes$/i.test(n.field) && !n.children) {
        const length = n.value instanceof Uint8Array ? n.value.length : 0;
        return { ...n, value: `[${length} bytes redacted: SASL token]` };
      }
      return n.children ? { ...n, children: walk(n.children) } : n;
    });
  return { ...frame, nodes: walk(frame.nodes) };
}

/**
 * A copy of a SaslAuthenticate frame (size prefix included) with the token's bytes (not
 * its length) replaced by `*`; any other frame as it is. For recordings and hex dumps.
 */
export function redactFrame(frame: Buffer, kind: 'request' | 'response', apiKey: number, version: number): Buffer {
  if (apiKey !== SASL_AUTHENTICATE) return frame;
  let annotated: AnnotatedFrame;
  try {
    annotated = kind === 'request' ? annotateRequest(frame) : annotateResponse(frame, apiKey, version);
  } catch {
    // Not decodable: nothing can say where the token is, so none of the body is kept.
    const out = Buffer.from(frame);
    out.fill(STAR, Math.min(out.length, kind === 'request' ? 12 : 8));
    return out;
  }
  const out = Buffer.from(frame);
  for (const n of authBytesNodes(annotated.nodes)) {
    const length = n.value instanceof Uint8Array ? n.value.length : 0;
    out.fill(STAR, n.offset + n.length - length, n.offset + n.length);
  }
  return out;
}
