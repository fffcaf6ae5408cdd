/**
 * Cuts a byte stream into Kafka frames (`int32 size` + that many bytes).
 *
 * A size below 4 (no room for a correlation id) or above the configured cap is refused
 * before any memory is set aside for it. A frame that arrives in one chunk is returned
 * as a view of that chunk; one spread over several chunks is joined once, when complete.
 */
import { ProtocolError } from '../errors.js';

export class FrameReader {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Size of the frame being assembled, once its 4-byte prefix is in. */
  #frameSize = -1;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds a chunk; returns every frame it completes (without size prefixes). */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#frameSize < 0) {
        if (this.#buffered < 4) break;
        const size = this.#take(4).readInt32BE(0);
        if (size < 4 || size > this.#maxFrameBytes) {
          this.#chunks = [];
          this.#buffered = 0;
          throw new ProtocolError(
            size < 4
              ? `response frame size ${size} is too small to hold a correlation id`
              : `response frame claims ${size} bytes, more than the ${this.#maxFrameBytes}-byte limit`,
          );
        }
        this.#frameSize = size;
      }
      if (this.#buffered < this.#frameSize) break;
      frames.push(this.#take(this.#frameSize));
      this.#frameSize = -1;
    }
    return frames;
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
