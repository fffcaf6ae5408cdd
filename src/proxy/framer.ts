/**
 * Cuts a byte stream into whole Kafka frames, size prefix included (the proxy forwards
 * and records them as they came). A frame that arrives in one chunk is a view of it.
 *
 * A size that cannot be a frame (below 4, or past the cap) breaks the stream: `push`
 * then returns `broken` with every byte it held, and the proxy passes everything on
 * untouched from there.
 */
import { ChunkQueue } from '../net/chunk-queue.js';
import { looksLike } from '../net/frame-reader.js';

export class Framer {
  readonly #maxFrameBytes: number;
  readonly #received = new ChunkQueue();

  constructor(maxFrameBytes = 256 * 1024 * 1024) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  get buffered(): number {
    return this.#received.length;
  }

  push(chunk: Buffer): { frames: Buffer[]; broken?: { reason: string; bytes: Buffer } } {
    const received = this.#received;
    received.push(chunk);
    const frames: Buffer[] = [];
    while (received.length >= 4) {
      const size = received.peekInt32();
      if (size < 4 || size > this.#maxFrameBytes) {
        const bytes = received.takeAll();
        const kind = looksLike(bytes);
        return { frames, broken: { reason: `a frame size of ${size} bytes cannot be a Kafka frame${kind ? ` (these bytes are ${kind})` : ''}`, bytes } };
      }
      if (received.length < size + 4) break;
      frames.push(received.take(size + 4));
    }
    return { frames };
  }
}
