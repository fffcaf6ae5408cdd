import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cannotHealByWaiting, ConnectionError, KafkaWireError, ProtocolError, RequestTimeoutError } from '../../src/errors.js';
import { Producer } from '../../src/producer/producer.js';
import { ApiVersions, Metadata } from '../../src/protocol/apis/index.js';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { Connection } from '../../src/net/connection.js';
import { apiVersionsBody, fakeServer, responseFrame, type FakeServer } from '../helpers/fake-server.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ok = (req: { correlationId: number }, socket: net.Socket): void => {
  socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 0, [[18, 0, 4]])));
};

async function connect(s: FakeServer, extra: Partial<Parameters<typeof Connection.connect>[0]> = {}): Promise<Connection> {
  return Connection.connect({ host: s.host, port: s.port, ...extra });
}

function ourResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('a server that sends garbage', () => {
  it('gets a ProtocolError naming the broker, and the socket is closed', async () => {
    server = await fakeServer((_req, socket) => socket.write('this is not a kafka frame at all'));
    const conn = await connect(server);
    const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).broker).toBe(`127.0.0.1:${server.port}`);
    await conn.closed;
    expect(conn.isOpen).toBe(false);
  });

  it('a frame claiming 2 GiB is refused without allocating it', async () => {
    server = await fakeServer((_req, socket) => socket.write(Buffer.from('7fffffff00000000', 'hex')));
    const before = process.memoryUsage().arrayBuffers;
    const conn = await connect(server);
    const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/claims 2147483647 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    await conn.closed;
  });

  it.each([
    ['an HTTP server', Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), /claims 1213486160 bytes.*: the other end answers in HTTP, not Kafka \(is this a Kafka listener's port\?\)$/],
    // A TLS alert record (unexpected_message), as a TLS listener answers plaintext.
    ['a TLS listener', Buffer.from('1503030002020a', 'hex'), /claims \d+ bytes.*: the other end answers in TLS \(a TLS listener: give the producer its `tls` option\)$/],
    // Python's http.server answering a bare HTML body, no status line.
    ['anything else', Buffer.from('<!DOCTYPE HTML>\n<html>'), /claims 1008813135 bytes.*: the other end's first answer is no Kafka frame \(it begins 3c 21 44 4f \("<!DO"\); is this a Kafka listener's port\?\)$/],
    ['bytes that are not text', Buffer.from('7fffffff00000000', 'hex'), /-byte limit: the other end's first answer is no Kafka frame \(it begins 7f ff ff ff;/],
  ])('%s: the ProtocolError says what the first bytes look like', async (_what, reply, message) => {
    server = await fakeServer((_req, socket) => socket.write(reply));
    const conn = await connect(server);
    const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(message);
    await conn.closed;
  });

  it('after a first answer that was Kafka, a frame no Kafka broker sends is a broken connection, which a new one may mend', async () => {
    server = await fakeServer((req, socket) => {
      socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 0, [[18, 0, 4]])));
      socket.write(Buffer.from('7fffffff00000000', 'hex'));
    });
    const conn = await connect(server);
    const err = await conn.send(ApiVersions, 0, {}).then(() => conn.send(ApiVersions, 0, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).listener).toBeUndefined();
    expect(cannotHealByWaiting(err)).toBe(false);
    await conn.closed;
  });

  it('a negative or tiny frame size is refused', async () => {
    for (const size of ['ffffffff', '00000002']) {
      server = await fakeServer((_req, socket) => socket.write(Buffer.from(size + '0000', 'hex')));
      const conn = await connect(server);
      await expect(conn.send(ApiVersions, 0, {})).rejects.toBeInstanceOf(ProtocolError);
      await conn.closed;
      await server.close();
    }
    server = undefined;
  });

  it('a response to a request never sent (wrong correlation id) closes the connection', async () => {
    server = await fakeServer((req, socket) => socket.write(responseFrame(req.correlationId + 7, apiVersionsBody(0, 0, []))));
    const conn = await connect(server);
    await expect(conn.send(ApiVersions, 0, {})).rejects.toThrow(/correlation id 7, expected correlation id 0/);
    await conn.closed;
  });

  it('a well-framed response whose body is wrong fails only that request', async () => {
    let n = 0;
    server = await fakeServer((req, socket) => {
      const body = n++ === 0 ? Buffer.from('00', 'hex') : apiVersionsBody(0, 0, [[18, 0, 4]]);
      socket.write(responseFrame(req.correlationId, body));
    });
    const conn = await connect(server);
    await expect(conn.send(ApiVersions, 0, {})).rejects.toThrow(/ApiVersions v0 from 127\.0\.0\.1:\d+: truncated/);
    await expect(conn.send(ApiVersions, 0, {})).resolves.toMatchObject({ errorCode: 0 });
    expect(conn.isOpen).toBe(true);
    await conn.close();
  });

  it('random bytes never crash or hang the client', async () => {
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i % 40) }, () => Math.floor(Math.random() * 256)));
      server = await fakeServer((req, socket) => {
        socket.write(i % 2 ? junk : Buffer.concat([responseFrame(req.correlationId, junk)]));
        socket.end();
      });
      const conn = await connect(server);
      const result = await conn.send(Metadata, 12, { topics: null }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      if (result !== 'resolved') expect(result).toBeInstanceOf(KafkaWireError);
      conn.destroy();
      await conn.closed;
      await server.close();
    }
    server = undefined;
  });
});

describe('a listener that answers in TLS or HTTP, or with anything else that is not Kafka', () => {
  it.each([
    ['TLS', Buffer.from('1503030002020a', 'hex'), /answers in TLS/],
    ['HTTP', Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), /answers in HTTP/],
    ['an HTML body', Buffer.from('<!DOCTYPE HTML>\n<html>'), /first answer is no Kafka frame/],
  ])('%s: a producer fails connect() and send() with the ProtocolError at once, not after maxBlockMs', async (_listener, reply, message) => {
    server = await fakeServer((_req, socket) => socket.write(reply));
    const producer = new Producer({ bootstrap: `${server.host}:${server.port}`, maxBlockMs: 30_000, retryBackoffMs: 50 });
    try {
      const started = Date.now();
      const connected = await producer.connect().catch((e: unknown) => e);
      const sent = await producer.send({ topic: 't', value: 'v' }).catch((e: unknown) => e);
      for (const err of [connected, sent]) {
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).message).toMatch(message);
        expect(cannotHealByWaiting(err)).toBe(true);
      }
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await producer.close({ timeoutMs: 1000 });
    }
  });
});

describe('a server that stops half-way', () => {
  it('closing after half a frame fails the request with a ConnectionError', async () => {
    server = await fakeServer((_req, socket) => {
      socket.write(Buffer.from('000000640000000000', 'hex'));
      socket.end();
    });
    const conn = await connect(server);
    await expect(conn.send(ApiVersions, 0, {})).rejects.toBeInstanceOf(ConnectionError);
  });

  it('staying silent after half a frame ends in a RequestTimeoutError and a closed connection', async () => {
    server = await fakeServer((_req, socket) => socket.write(Buffer.from('0000006400', 'hex')));
    const conn = await connect(server, { requestTimeoutMs: 200 });
    const other = conn.send(ApiVersions, 0, {}, { timeoutMs: 5000 });
    const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
    await expect(other).rejects.toBeInstanceOf(ConnectionError);
    // The first request was the one with the longer timeout; the second timed out first.
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as Error).message).toMatch(/ApiVersions v0 to 127\.0\.0\.1:\d+ got no response within 200 ms/);
    await conn.closed;
  });
});

describe('reading', () => {
  // Plain sockets read into one buffer shared by every connection (see connection.ts):
  // each read must be copied out before the next, whoever it is for.
  it('responses written a few bytes at a time, to two connections in turn, each arrive intact', async () => {
    const bodies = [apiVersionsBody(0, 0, [[18, 0, 4], [3, 0, 12]]), apiVersionsBody(0, 0, [[0, 3, 11], [1, 4, 17], [2, 0, 9]])];
    const pieces: Array<{ socket: net.Socket; bytes: Buffer }> = [];
    server = await fakeServer((req, socket) => {
      const frame = responseFrame(req.correlationId, bodies[server!.requests.length - 1]!);
      for (let at = 0; at < frame.length; at += 3) pieces.push({ socket, bytes: frame.subarray(at, at + 3) });
    });
    const a = await connect(server);
    const b = await connect(server);
    const answerA = a.send(ApiVersions, 0, {});
    const answerB = b.send(ApiVersions, 0, {});
    await until(() => pieces.length > 0 && server!.requests.length === 2);
    // Interleaved, one piece per turn of the event loop, so every piece is a read of its own.
    const first = pieces.filter((p) => p.socket === pieces[0]!.socket);
    const second = pieces.filter((p) => p.socket !== pieces[0]!.socket);
    for (let i = 0; i < Math.max(first.length, second.length); i++) {
      for (const p of [first[i], second[i]]) if (p) p.socket.write(p.bytes);
      await new Promise((r) => setTimeout(r, 2));
    }
    const [ra, rb] = await Promise.all([answerA, answerB]);
    expect(ra.apiKeys.map((k) => k.apiKey)).toEqual([18, 3]);
    expect(rb.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion])).toEqual([[0, 3, 11], [1, 4, 17], [2, 0, 9]]);
    await Promise.all([a.close(), b.close()]);
  });

  it('bytes from a server that speaks before it is asked are not lost: they are a response to nothing', async () => {
    const sockets = new Set<net.Socket>();
    const early = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write(responseFrame(5, apiVersionsBody(0, 0, [])));
    });
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    try {
      const conn = await Connection.connect({ host: '127.0.0.1', port: (early.address() as net.AddressInfo).port });
      await conn.closed;
      const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as Error).message).toMatch(/sent a response with correlation id 5, expected no response/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => early.close(r));
    }
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 1));
}

describe('the request timer', () => {
  it('left armed after an answer, still times out a later request on its own deadline', async () => {
    // The first request is answered; the ones after it are not. The timer armed for the
    // first stays armed (no clearTimeout per answer): it must then move to the later deadline.
    let answered = 0;
    server = await fakeServer((req, socket) => {
      if (answered++ === 0) ok(req, socket);
    });
    const conn = await connect(server, { requestTimeoutMs: 300 });
    await conn.send(ApiVersions, 0, {});
    await new Promise((r) => setTimeout(r, 150));
    const sentAt = Date.now();
    const err = await conn.send(ApiVersions, 0, {}).catch((e: unknown) => e);
    const waited = Date.now() - sentAt;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(waited).toBeGreaterThanOrEqual(295);
    await conn.closed;
  });

  it('a shorter timeout than the one armed for is kept', async () => {
    server = await fakeServer(() => {});
    const conn = await connect(server, { requestTimeoutMs: 60_000 });
    const long = conn.send(ApiVersions, 0, {});
    const sentAt = Date.now();
    const err = await conn.send(ApiVersions, 0, {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    await expect(long).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('requests in flight', () => {
  it('never exceed the limit; the rest wait their turn in order', async () => {
    const held: Array<() => void> = [];
    server = await fakeServer((req, socket) => held.push(() => ok(req, socket)));
    const conn = await connect(server, { maxInFlight: 2 });
    const results = Array.from({ length: 5 }, () => conn.send(ApiVersions, 0, {}));
    await waitFor(() => server!.requests.length === 2);
    expect(conn.inFlight).toBe(2);
    expect(conn.queued).toBe(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.length).toBe(2);
    while (server.requests.length < 5 || held.length > 0) {
      held.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(results);
    expect(server.requests.map((r) => r.correlationId)).toEqual([0, 1, 2, 3, 4]);
    await conn.close();
  });

  it('acks=0 style requests resolve once written and expect no response', async () => {
    server = await fakeServer(() => {});
    const conn = await connect(server);
    await expect(conn.send(ApiVersions, 0, {}, { expectResponse: false })).resolves.toBeUndefined();
    expect(conn.inFlight).toBe(0);
    await conn.close();
  });

  it('close() waits for answers in flight, then refuses new requests', async () => {
    server = await fakeServer((req, socket) => setTimeout(() => ok(req, socket), 50));
    const conn = await connect(server);
    const answered = conn.send(ApiVersions, 0, {});
    const closing = conn.close();
    await expect(answered).resolves.toMatchObject({ errorCode: 0 });
    await closing;
    await expect(conn.send(ApiVersions, 0, {})).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('after close', () => {
  it('no socket or timer of ours is left', async () => {
    server = await fakeServer(ok);
    const before = ourResources();
    const conn = await connect(server, { requestTimeoutMs: 60_000 });
    await conn.send(ApiVersions, 0, {});
    const pending = conn.send(ApiVersions, 0, {});
    await conn.close();
    await pending;
    await server.close();
    server = undefined;
    await new Promise((r) => setImmediate(r));
    const after = ourResources();
    expect(after['TCPSocketWrap'] ?? 0).toBe(before['TCPSocketWrap'] ?? 0);
    expect(after['Timeout'] ?? 0).toBeLessThanOrEqual(before['Timeout'] ?? 0);
  });

  it('destroy() fails everything pending at once', async () => {
    server = await fakeServer(() => {});
    const conn = await connect(server);
    const a = conn.send(ApiVersions, 0, {});
    const b = conn.send(ApiVersions, 0, {});
    conn.destroy();
    await expect(a).rejects.toBeInstanceOf(ConnectionError);
    await expect(b).rejects.toBeInstanceOf(ConnectionError);
    await conn.closed;
  });
});

describe('connecting', () => {
  it('a refused connection is a ConnectionError naming the address', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await Connection.connect({ host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).broker).toBe(`127.0.0.1:${port}`);
    expect((err as ConnectionError).retriable).toBe(true);
  });
});

/** A broker that knows ApiVersions up to v2 only, and the given other APIs. */
const oldBroker =
  (ranges: Array<[number, number, number]>) =>
  (req: { apiKey: number; apiVersion: number; correlationId: number }, socket: net.Socket): void => {
    const body = req.apiVersion > 2 ? apiVersionsBody(0, 35, [[18, 0, 2]]) : apiVersionsBody(req.apiVersion, 0, [[18, 0, 2], ...ranges]);
    socket.write(responseFrame(req.correlationId, body));
  };

describe('ApiVersions negotiation', () => {
  it('falls back to the version a broker offers when it refuses ours (KIP-511)', async () => {
    server = await fakeServer(oldBroker([[3, 0, 7]]));
    const broker = await BrokerConnection.open({ host: server.host, port: server.port });
    expect(server.requests.map((r) => r.apiVersion)).toEqual([4, 2]);
    expect(broker.apiVersionsVersion).toBe(2);
    expect(broker.versionFor(Metadata)).toBe(7);
    await broker.close();
  });

  it('an API the broker lacks is an UnsupportedVersionError before anything is sent', async () => {
    server = await fakeServer(oldBroker([]));
    const broker = await BrokerConnection.open({ host: server.host, port: server.port });
    await expect(broker.request(Metadata, { topics: null })).rejects.toThrow(/supports Metadata not at all/);
    await broker.close();
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
