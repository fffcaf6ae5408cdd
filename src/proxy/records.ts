/**
 * For `--verbose`: the records inside Produce requests and Fetch answers, annotated down to
 * each record (as `kafka-wire decode` shows them), in place of the `records` bytes.
 */
import type { AnnotatedFrame } from '../decode/annotate-frame.js';
import { annotateRecordBatches } from '../decode/annotate-batch.js';
import type { TraceNode } from '../protocol/codec.js';
import { decompress } from '../protocol/compression/index.js';

async function expand(nodes: readonly TraceNode[], frame: Buffer): Promise<TraceNode[]> {
  const out: TraceNode[] = [];
  for (const node of nodes) {
    if (node.children) {
      out.push({ ...node, children: await expand(node.children, frame) });
    } else if (node.type.endsWith('records') && Buffer.isBuffer(node.value) && node.value.length > 0 && node.value.buffer === frame.buffer) {
      const value = node.value;
      try {
        out.push({ ...node, children: await annotateRecordBatches(value, value.byteOffset - frame.byteOffset, (codec, data) => decompress(codec, data)) });
      } catch {
        out.push(node); // batches that do not annotate stay bytes
      }
    } else {
      out.push(node);
    }
  }
  return out;
}

/** The annotation with every non-empty `records` field expanded; the same object when there is none. */
export async function withRecords(frame: AnnotatedFrame, bytes: Buffer): Promise<AnnotatedFrame> {
  if (frame.apiKey !== 0 && frame.apiKey !== 1) return frame;
  return { ...frame, nodes: await expand(frame.nodes, bytes) };
}

/** An exchange whose Produce request or Fetch answer shows its records. */
export async function exchangeWithRecords<E extends { request?: { decoded?: AnnotatedFrame; bytes: Buffer }; response?: { decoded?: AnnotatedFrame; bytes: Buffer } }>(ex: E): Promise<E> {
  const side = async <S extends { decoded?: AnnotatedFrame; bytes: Buffer } | undefined>(s: S): Promise<S> =>
    s?.decoded ? ({ ...s, decoded: await withRecords(s.decoded, s.bytes) } as S) : s;
  return { ...ex, request: await side(ex.request), response: await side(ex.response) };
}
