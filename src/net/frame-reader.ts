/**
 * Cuts a byte stream into Kafka frames (`int32 size` + that many bytes).
 *
 * A size below 4 (no room for a correlation id) or above the configured cap is refused
 * before any memory is set aside for it. A frame that arrives in one chunk is returned
 * as a view of that chunk; one spread over several chunks is joined once, when complete.
 */
import { ProtocolError } from '../errors.js';
import { ChunkQueue } from './chunk-queue.js';

export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #received = new ChunkQueue();
  /** Size of the frame being assembled, once its 4-byte prefix is in. */
  #frameSize = -1;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#received.length;
  }

  /** Adds a chunk; returns every frame it completes (without size prefixes). */
  push(chunk: Buffer): Buffer[] {
    const received = this.#received;
    received.push(chunk);
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#frameSize < 0) {
        if (received.length < 4) break;
        const size = received.take(4).readInt32BE(0);
        if (size < 4 || size > this.#maxFrameBytes) {
          received.clear();
          throw new ProtocolError(
            size < 4
              ? `response frame size ${size} is too small to hold a correlation id`
              : `response frame claims ${size} bytes, more than the ${this.#maxFrameBytes}-byte limit`,
          );
        }
        this.#frameSize = size;
      }
      if (received.length < this.#frameSize) break;
      frames.push(received.take(this.#frameSize));
      this.#frameSize = -1;
    }
    return frames;
  }
}
