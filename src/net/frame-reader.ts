/**
 * Cuts a byte stream into Kafka frames (`int32 size` + that many bytes).
 *
 * A size below 4 (no room for a correlation id) or above the configured cap is refused
 * before any memory is set aside for it. A frame that arrives in one chunk is returned
 * as a view of that chunk; one spread over several chunks is joined once, when complete.
 */
import { ProtocolError } from '../errors.js';
import { ChunkQueue } from './chunk-queue.js';

/**
 * What the first bytes of a stream that is no Kafka frame look like: the two mistakes
 * that cause it most, a port that is not Kafka's and a TLS listener dialled without TLS,
 * show in those bytes.
 */
export function looksLike(prefix: Buffer): 'HTTP' | 'TLS' | undefined {
  // An HTTP answer, or (to the proxy, from a client) an HTTP request.
  if (/^(?:HTTP|GET |POST|PUT |HEAD|DELE|OPTI|PATC|CONN)$/.test(prefix.toString('latin1', 0, 4))) return 'HTTP';
  // A TLS record: content type 21 (alert) or 22 (handshake), then protocol version 3.x.
  if ((prefix[0] === 0x15 || prefix[0] === 0x16) && prefix[1] === 0x03) return 'TLS';
  return undefined;
}

/** The end of the producer's error for an answer that is no Kafka frame: what it looks like, and what to do. */
function notKafka(prefix: Buffer, listener: 'HTTP' | 'TLS' | 'other' | undefined): string {
  switch (listener) {
    case 'HTTP':
      return ": the other end answers in HTTP, not Kafka (is this a Kafka listener's port?)";
    case 'TLS':
      return ': the other end answers in TLS (a TLS listener: give the producer its `tls` option)';
    case 'other':
      return `: the other end's first answer is no Kafka frame (it begins ${hexAndText(prefix)}; is this a Kafka listener's port?)`;
    default:
      return '';
  }
}

/** `3c 21 44 4f ("<!DO")`: the bytes, and as text when they are printable. */
function hexAndText(bytes: Buffer): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = bytes.toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? `${hex} (${JSON.stringify(text)})` : hex;
}

export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #received = new ChunkQueue();
  /** Size of the frame being assembled, once its 4-byte prefix is in. */
  #frameSize = -1;
  /** Whether a whole frame came: a first answer that is none shows a port that is not Kafka's. */
  #framed = false;

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
        const prefix = received.take(4);
        const size = prefix.readInt32BE(0);
        if (size < 4 || size > this.#maxFrameBytes) {
          received.clear();
          // Later in a stream the same bytes are a broken connection, which a new one may mend.
          const listener = looksLike(prefix) ?? (this.#framed ? undefined : 'other');
          throw new ProtocolError(
            (size < 4
              ? `response frame size ${size} is too small to hold a correlation id`
              : `response frame claims ${size} bytes, more than the ${this.#maxFrameBytes}-byte limit`) + notKafka(prefix, listener),
            listener ? { listener } : {},
          );
        }
        this.#frameSize = size;
      }
      if (received.length < this.#frameSize) break;
      frames.push(received.take(this.#frameSize));
      this.#frameSize = -1;
      this.#framed = true;
    }
    return frames;
  }
}
