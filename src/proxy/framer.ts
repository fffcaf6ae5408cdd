/**
 * Cuts a byte stream into whole Kafka frames, size prefix included (the proxy forwards
 * and records them as they came). A frame that arrives in one chunk is a view of it.
 *
 * A size that cannot be a frame (below 4, or past the cap) breaks the stream: `push`
 * then returns `broken` with every byte it held, and the proxy passes everything on
 * untouched from there.
 */
export class Framer {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes = 256 * 1024 * 1024) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): { frames: Buffer[]; broken?: { reason: string; bytes: Buffer } } {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.#buffered >= 4) {
      const size = this.#peekSize();
      if (size < 4 || size > this.#maxFrameBytes) {
        const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
        this.#chunks = [];
        this.#buffered = 0;
        return { frames, broken: { reason: `a frame size of ${size} bytes cannot be a Kafka frame`, bytes } };
      }
      if (this.#buffered < size + 4) break;
      frames.push(this.#take(size + 4));
    }
    return { frames };
  }

  #peekSize(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.alloc(4);
    let filled = 0;
    for (const c of this.#chunks) {
      const n = Math.min(4 - filled, c.length);
      c.copy(head, filled, 0, n);
      filled += n;
      if (filled === 4) break;
    }
    return head.readInt32BE(0);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    this.#buffered -= n;
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
