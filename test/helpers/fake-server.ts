/**
 * A TCP server that plays a broker badly on purpose: it answers with whatever bytes a
 * test scripts (garbage, half frames, lying sizes). For what a real broker cannot be
 * made to do; conformance tests use real brokers.
 */
import * as net from 'node:net';
import { Produce } from '../../src/protocol/apis/index.js';
import { Writer } from '../../src/protocol/writer.js';

export interface ReceivedRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** The whole frame without its size prefix. */
  frame: Buffer;
}

export type Respond = (req: ReceivedRequest, socket: net.Socket) => void;

export interface FakeServer {
  port: number;
  host: string;
  requests: ReceivedRequest[];
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export async function fakeServer(respond: Respond): Promise<FakeServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        const req = { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4), frame };
        requests.push(req);
        respond(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    host: '127.0.0.1',
    requests,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A response frame: size prefix, correlation id, then `body`. */
export function responseFrame(correlationId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + body.length, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, body]);
}

/** A Produce response frame of a flexible version (9 and up): size, correlation id, the header's empty tag section, then `body`. */
export function produceResponseFrame(version: number, correlationId: number, body: object): Buffer {
  const codec = Produce.responseCodec(version);
  const size = codec.size(body as never);
  const w = new Writer(8 + 1 + size);
  w.int32(4 + 1 + size);
  w.int32(correlationId);
  w.uvarint(0);
  codec.write(w, body as never);
  return w.finish();
}

/** ApiVersions response body (v0-v2 layout) listing the given ranges. */
export function apiVersionsBody(version: number, errorCode: number, ranges: Array<[number, number, number]>): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(6);
  head.writeInt16BE(errorCode, 0);
  head.writeInt32BE(ranges.length, 2);
  parts.push(head);
  for (const [key, min, max] of ranges) {
    const b = Buffer.alloc(6);
    b.writeInt16BE(key, 0);
    b.writeInt16BE(min, 2);
    b.writeInt16BE(max, 4);
    parts.push(b);
  }
  if (version >= 1) parts.push(Buffer.alloc(4)); // throttle_time_ms
  return Buffer.concat(parts);
}
