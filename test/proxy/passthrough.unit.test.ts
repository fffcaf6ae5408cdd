/**
 * The proxy against a fake upstream (a plain TCP server, no Kafka): bytes it cannot
 * decode go through untouched and are shown as undecodable; bytes that are no frame at
 * all switch the connection to plain forwarding; acks=0 Produce requests are shown with
 * no answer; closing either side closes the other; recordings replay as shown live.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { failureText, main } from '../../src/cli/index.js';
import { KafkaWireError } from '../../src/errors.js';
import { annotateRequest } from '../../src/decode/annotate-frame.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { encodeRecordBatch } from '../../src/protocol/records/builder.js';
import { Metadata, Produce, SaslAuthenticate } from '../../src/protocol/apis/index.js';
import { jsonLine, summaryLine, verboseText, type Exchange, type ProxyEvent } from '../../src/proxy/index.js';
import { replayRecording } from '../../src/proxy/recording.js';
import { startProxy, type Proxy } from '../../src/proxy/proxy.js';

interface Fake {
  server: net.Server;
  port: number;
  received: Buffer[];
  sockets: net.Socket[];
  onData?: (socket: net.Socket, chunk: Buffer) => void;
}

async function fakeUpstream(): Promise<Fake> {
  const fake: Fake = { server: net.createServer(), port: 0, received: [], sockets: [] };
  fake.server.on('connection', (s) => {
    fake.sockets.push(s);
    s.on('data', (chunk) => {
      fake.received.push(chunk);
      fake.onData?.(s, chunk);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as net.AddressInfo).port;
  return fake;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fake upstream, closed with every socket it accepted after the test. */
async function cleanedUpstream(): Promise<Fake> {
  const fake = await fakeUpstream();
  cleanups.push(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
  cleanups.push(() => {
    for (const s of fake.sockets) s.destroy();
  });
  return fake;
}

/** A temporary directory, removed after the test. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-proxy-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file opened for writing (what the proxy prints to), closed after the test. */
function outputFd(file: string): number {
  const fd = openSync(file, 'w');
  cleanups.push(() => closeSync(fd));
  return fd;
}

/** A proxy in front of a fake upstream; the hooks run after each exchange or event is collected (and may throw). */
async function setup(
  record?: string,
  hooks: { onExchange?: (ex: Exchange) => void; onEvent?: (e: ProxyEvent) => void } = {},
): Promise<{ fake: Fake; proxy: Proxy; exchanges: Exchange[]; events: ProxyEvent[] }> {
  const fake = await cleanedUpstream();
  const exchanges: Exchange[] = [];
  const events: ProxyEvent[] = [];
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: fake.port },
    onExchange: (ex) => {
      exchanges.push(ex);
      hooks.onExchange?.(ex);
    },
    onEvent: (e) => {
      events.push(e);
      hooks.onEvent?.(e);
    },
    ...(record ? { record } : {}),
  });
  cleanups.push(() => proxy.close());
  return { fake, proxy, exchanges, events };
}

async function connect(proxy: Proxy): Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = net.connect(proxy.address.port, proxy.address.host);
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  cleanups.push(() => void socket.destroy());
  return { socket, received: () => Buffer.concat(chunks), closed };
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

describe('proxy with a fake upstream', () => {
  it('forwards a garbage request and a garbage answer untouched, and shows both as undecodable', async () => {
    const { fake, proxy, exchanges } = await setup();
    // API key 32000 v1, correlation id 5, then bytes that mean nothing.
    const request = frame(Buffer.from('7d0000010000000500036162639a9b9c9d9e9f', 'hex'));
    // A Metadata v12 request whose answer is garbage: the proxy must try to rewrite it, fail, and pass it on.
    const metadata = encodeRequest(Metadata, 12, 6, 'test', { topics: null });
    const answer = frame(Buffer.from('00000006ffffffffffff0102030405', 'hex'));
    fake.onData = (s) => {
      if (Buffer.concat(fake.received).length === request.length + metadata.length) s.write(answer);
    };
    const client = await connect(proxy);
    client.socket.write(Buffer.concat([request, metadata]));
    await vi.waitFor(() => expect(client.received().length).toBe(answer.length));
    expect(Buffer.concat(fake.received).equals(Buffer.concat([request, metadata]))).toBe(true);
    expect(client.received().equals(answer)).toBe(true);
    await vi.waitFor(() => expect(exchanges).toHaveLength(1));
    const ex = exchanges[0]!;
    expect(ex.api).toBe('Metadata');
    expect(ex.request?.error).toBeUndefined();
    expect(ex.response?.error).toMatch(/.+/);
    expect(summaryLine(ex)).toMatch(/Metadata v12 id=6 .*answer UNDECODED/);
    expect(proxy.stats.undecoded).toBe(1);
    // The garbage request is waiting for its answer; on close it is shown, undecoded.
    client.socket.destroy();
    await vi.waitFor(() => expect(exchanges).toHaveLength(2));
    expect(exchanges[1]!.request?.error).toMatch(/32000|not one Kafka/);
    expect(exchanges[1]!.noResponse).toBe('connection closed');
    expect(summaryLine(exchanges[1]!)).toMatch(/request UNDECODED/);
    expect(proxy.stats.undecoded).toBe(2);
  });

  it('passes bytes that are no Kafka frame through untouched, in both directions', async () => {
    const { fake, proxy, events } = await setup();
    const junk = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const reply = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n');
    fake.onData = (s) => s.write(reply);
    const client = await connect(proxy);
    client.socket.write(junk);
    await vi.waitFor(() => expect(client.received().equals(reply)).toBe(true));
    expect(Buffer.concat(fake.received).equals(junk)).toBe(true);
    const unframed = events.filter((e) => e.type === 'unframed');
    expect(unframed.map((e) => e.direction).sort()).toEqual(['request', 'response']);
    // Named as what they are, as the producer names an HTTP answer.
    for (const e of unframed) expect(e.reason).toMatch(/cannot be a Kafka frame \(these bytes are HTTP\)$/);
  });

  it('shows a Produce with acks=0 as a request with no answer', async () => {
    const { fake, proxy, exchanges } = await setup();
    const client = await connect(proxy);
    const produce = encodeRequest(Produce, 9, 3, 'test', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 2, records: null }] }] });
    client.socket.write(produce);
    await vi.waitFor(() => expect(exchanges).toHaveLength(1));
    expect(exchanges[0]!.noResponse).toBe('acks=0');
    expect(summaryLine(exchanges[0]!)).toMatch(/Produce v9 id=3 client=test topics=orders\[2\] \d+B → no answer \(acks=0\)/);
    await vi.waitFor(() => expect(Buffer.concat(fake.received).equals(produce)).toBe(true));
  });

  it('closes the client when the upstream closes, and the upstream when the client closes', async () => {
    const { fake, proxy } = await setup();
    const a = await connect(proxy);
    await vi.waitFor(() => expect(fake.sockets).toHaveLength(1));
    fake.sockets[0]!.destroy();
    await a.closed;
    const b = await connect(proxy);
    await vi.waitFor(() => expect(fake.sockets).toHaveLength(2));
    const upstreamClosed = new Promise<void>((resolve) => fake.sockets[1]!.once('close', () => resolve()));
    b.socket.end();
    await upstreamClosed;
  });

  it('tells of a close after the exchanges of the connection, even the unanswered ones it shows at the close', async () => {
    const order: string[] = [];
    const { fake, proxy } = await setup(undefined, {
      onExchange: (ex) => order.push(`exchange ${ex.correlationId} ${ex.noResponse ?? ''}`),
      onEvent: (e) => e.type === 'close' && order.push('close'),
    });
    const client = await connect(proxy);
    client.socket.write(encodeRequest(Metadata, 12, 7, 'test', { topics: null }));
    await vi.waitFor(() => expect(fake.received.length).toBeGreaterThan(0));
    client.socket.destroy();
    await vi.waitFor(() => expect(order).toContain('close'), { timeout: 5000 });
    expect(order).toEqual(['exchange 7 connection closed', 'close']);
  });

  it('goes on showing when onExchange throws, and reports it as a display error', async () => {
    const { proxy, exchanges, events } = await setup(undefined, {
      onExchange: (ex) => {
        if (ex.correlationId === 1) throw new Error('a bug in the callback');
      },
    });
    const seen = (): number[] => exchanges.map((ex) => ex.correlationId);
    const client = await connect(proxy);
    // Two acks=0 requests in one write: both shown in the same turn of the display.
    const produce = (id: number): Buffer => encodeRequest(Produce, 9, id, 'test', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: null }] }] });
    client.socket.write(Buffer.concat([produce(1), produce(2)]));
    await vi.waitFor(() => expect(seen()).toEqual([1, 2]), { timeout: 5000 });
    expect(events).toContainEqual({ type: 'display-error', message: 'onExchange threw: a bug in the callback' });
  });

  it('keeps every byte of a large transfer in order when the client reads slowly', async () => {
    const { fake, proxy } = await setup();
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const answer = frame(Buffer.concat([Buffer.from([0, 0, 0, 9]), big]));
    fake.onData = (s) => s.write(answer);
    const client = await connect(proxy);
    client.socket.pause();
    client.socket.write(encodeRequest(Metadata, 1, 9, 'test', { topics: [] }).subarray(0, 10));
    await vi.waitFor(() => expect(fake.received.length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 200));
    client.socket.resume();
    await vi.waitFor(() => expect(client.received().length).toBe(answer.length), { timeout: 10_000 });
    expect(client.received().equals(answer)).toBe(true);
  });

  it('records the conversation so that a replay shows the same exchanges', async () => {
    const dir = tempDir();
    const file = join(dir, 'rec.jsonl');
    const { fake, proxy, exchanges } = await setup(file);
    const answer = frame(Buffer.from('00000001000000000000', 'hex'));
    fake.onData = (s) => s.write(answer);
    const client = await connect(proxy);
    client.socket.write(encodeRequest(Metadata, 1, 1, 'rec', { topics: [] }));
    await vi.waitFor(() => expect(exchanges).toHaveLength(1));
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close();
    const replayed: Exchange[] = [];
    const stats = await replayRecording(file, (ex) => replayed.push(ex));
    expect(replayed.map(summaryLine)).toEqual(exchanges.map(summaryLine));
    expect(stats.exchanges).toBe(1);
    // And as `kafka-wire decode --replay FILE` prints it.
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    try {
      expect(await main(['decode', '--replay', file])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toContain(summaryLine(exchanges[0]!));
    expect(out).toMatch(/connection #1 opened from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/1 exchanges, 2 frames: 1 decoded, 1 not decoded/);

    // A proxy stopped while writing leaves its last line cut off: the rest replays, and says so.
    const whole = readFileSync(file, 'utf8');
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, `${whole}{"t":1,"conn":1,"dir":"requ`);
    const notices: string[] = [];
    const again: Exchange[] = [];
    await replayRecording(cut, (ex) => again.push(ex), (n) => notices.push(n.text));
    expect(again.map(summaryLine)).toEqual(exchanges.map(summaryLine));
    expect(notices.at(-1)).toMatch(/^line \d+ of .*cut\.jsonl is cut off \(the recording ends in the middle of it\): left out$/);
    // Damage before the end is an error, and names the line.
    const damaged = join(dir, 'damaged.jsonl');
    const lines = whole.trim().split('\n');
    writeFileSync(damaged, [lines[0], 'garbage', ...lines.slice(1)].join('\n'));
    await expect(replayRecording(damaged, () => {})).rejects.toThrow(new KafkaWireError(`${damaged}:2: not a JSON line (the recording is damaged here)`));
    let err = '';
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
    try {
      expect(await main(['decode', '--replay', file, '--api', 'Nope'])).toBe(2);
    } finally {
      errSpy.mockRestore();
    }
    expect(err).toMatch(/unknown API/);
  });
});

describe('proxy printing from its worker thread', () => {
  it('decodes, filters and prints exchanges as JSON lines from a worker', async () => {
    const dir = tempDir();
    const file = join(dir, 'out.jsonl');
    const fd = outputFd(file);
    const fake = await cleanedUpstream();
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: fake.port },
      print: { format: 'json', fd, apis: ['Produce'] },
    });
    const client = await connect(proxy);
    // A Metadata request (filtered out) and an acks=0 Produce (printed).
    client.socket.write(encodeRequest(Metadata, 1, 1, 'w', { topics: [] }));
    client.socket.write(encodeRequest(Produce, 9, 2, 'w', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 1, records: null }] }] }));
    await vi.waitFor(() => expect(fake.received.length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 100));
    client.socket.destroy();
    await proxy.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ api: 'Produce', version: 9, correlationId: 2, clientId: 'w', noResponse: 'acks=0', topics: { orders: [1] }, request: { decoded: true, unknownFields: 0 } });
    expect(proxy.stats.exchanges).toBe(2);
    expect(proxy.stats.undecoded).toBe(0); // the Metadata request, never answered, counted on close
  });
});

describe('proxy printing from its worker thread, closes', () => {
  it('tells of a close only once the exchanges before it are printed', async () => {
    const file = join(tempDir(), 'out.txt');
    const fd = outputFd(file);
    const fake = await cleanedUpstream();
    const printedAtClose: string[] = [];
    const proxy = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: fake.port },
      print: { format: 'summary', fd },
      onEvent: (e) => e.type === 'close' && printedAtClose.push(readFileSync(file, 'utf8')),
    });
    cleanups.push(() => proxy.close());
    const client = await connect(proxy);
    client.socket.write(encodeRequest(Produce, 9, 4, 'w', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: null }] }] }));
    await vi.waitFor(() => expect(fake.received.length).toBeGreaterThan(0));
    // At once: the exchange is still in the batch the display sends its worker every 20 ms.
    client.socket.destroy();
    // The worker thread starts first: seconds on a loaded machine.
    await vi.waitFor(() => expect(printedAtClose).toHaveLength(1), { timeout: 15_000 });
    expect(printedAtClose[0]).toMatch(/Produce v9 id=4 client=w topics=orders\[0\]/);
  });
});

describe('proxy --verbose', () => {
  it('annotates the records inside a Produce request, from the worker and in a replay', async () => {
    const dir = tempDir();
    const outFile = join(dir, 'out.txt');
    const recFile = join(dir, 'rec.jsonl');
    const fd = outputFd(outFile);
    const fake = await cleanedUpstream();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: fake.port }, print: { format: 'verbose', fd }, record: recFile });
    const batch = encodeRecordBatch([{ key: Buffer.from('the-key'), value: Buffer.from('the-value-in-a-record') }]);
    const client = await connect(proxy);
    client.socket.write(encodeRequest(Produce, 9, 2, 'v', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: batch }] }] }));
    await vi.waitFor(() => expect(fake.received.length).toBeGreaterThan(0));
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close();
    const shown = readFileSync(outFile, 'utf8');
    expect(shown).toMatch(/Produce v9 id=2 client=v topics=orders\[0\]/);
    expect(shown).toMatch(/"the-value-in-a-record"/);
    expect(shown).toMatch(/\bkey\b.*"the-key"/);
    let replayed = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((replayed += String(chunk)), true));
    try {
      expect(await main(['decode', '--replay', recFile, '--verbose'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(replayed).toMatch(/"the-value-in-a-record"/);
  });
});

describe('the whole annotation', () => {
  it('names a topic id with the topic a Metadata answer before gave it (Produce v13 carries ids only)', () => {
    const topicId = 'Wb2tCz3TRnS0IJ6Ix9JcbQ';
    const batch = encodeRecordBatch([{ key: null, value: Buffer.from('v') }]);
    const bytes = encodeRequest(Produce, 13, 2, 'v', { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ topicId, partitionData: [{ index: 0, records: batch }] }] });
    const request = { bytes, at: 0, decoded: annotateRequest(bytes), unknownFields: 0, trailing: 0 };
    const ex: Exchange = { connection: 1, broker: 'b:9092', apiKey: 0, api: 'Produce', version: 13, correlationId: 2, clientId: 'v', request, noResponse: 'connection closed', rewrites: [] };
    expect(verboseText(ex)).toMatch(new RegExp(`topic_id .* ${topicId}$`, 'm'));
    expect(verboseText({ ...ex, topicNames: new Map([[topicId, 'orders']]) })).toMatch(new RegExp(`topic_id .* ${topicId} \\(orders\\)$`, 'm'));
    // JSON keeps the id as sent, and names it beside.
    const json = JSON.parse(jsonLine({ ...ex, topicNames: new Map([[topicId, 'orders'], ['AAAAAAAAAAAAAAAAAAAAAQ', 'other']]) }, true)) as { topicNames: Record<string, string> };
    expect(json.topicNames).toEqual({ [topicId]: 'orders' });
    expect(JSON.stringify(json)).toContain(`"${topicId}"`);
  });
});

describe('a proxy that cannot start', () => {
  it('on a port in use: a KafkaWireError naming the address, and nothing left running (its printing worker is ended)', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as net.AddressInfo).port;
    const dir = tempDir();
    const before = process.getActiveResourcesInfo().length;
    const err = await startProxy({
      listen: { host: '127.0.0.1', port },
      upstream: { host: '127.0.0.1', port: 1 },
      print: { format: 'summary', fd: outputFd(join(dir, 'out.txt')) },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaWireError);
    expect((err as Error).message).toMatch(new RegExp(`^the proxy cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
    await vi.waitFor(() => expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before));
  });

  it('recording to a path that cannot be written: the error at once, before it listens', async () => {
    const events: ProxyEvent[] = [];
    const err = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: { host: '127.0.0.1', port: 1 },
      record: join(tempDir(), 'no-such-dir', 'conversation.jsonl'),
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(failureText(err)).toMatch(/^ENOENT: no such file or directory, open '.*no-such-dir/);
    expect(events).toEqual([]);
  });
});

describe('kafka-wire proxy --record', () => {
  it('a path that cannot be written is a usage error naming --record, before anything starts', async () => {
    let text = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((text += String(chunk)), true));
    try {
      const file = join(tempDir(), 'no-such-dir', 'conversation.jsonl');
      expect(await main(['proxy', '--upstream', '127.0.0.1:1', '--no-upstream-check', '--record', file])).toBe(2);
      expect(text).toMatch(/--record .*no-such-dir.*: cannot be written \(ENOENT\)/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('kafka-wire proxy --help', () => {
  it('prints its usage and exits 0', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    try {
      expect(await main(['proxy', '--help'])).toBe(0);
      expect(await main(['--help'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toMatch(/^usage: kafka-wire proxy --upstream HOST:PORT/m);
    expect(out).toMatch(/^  proxy --upstream/m);
  });
});

describe('SASL tokens passing through the proxy', () => {
  it('are forwarded untouched but never shown, printed or recorded in the clear', async () => {
    const dir = tempDir();
    const file = join(dir, 'rec.jsonl');
    const { fake, proxy, exchanges } = await setup(file);
    const password = 'Very-Secret-Pa55word';
    const token = Buffer.from(`\0alice\0${password}`);
    const request = encodeRequest(SaslAuthenticate, 2, 4, 'c', { authBytes: token });
    // The answer echoes the token back, so that both directions are checked.
    const answer = frame(Buffer.concat([Buffer.from('0000000400', 'hex'), Buffer.from([0, 0, 0, token.length + 1]), token, Buffer.alloc(8), Buffer.from([0])]));
    fake.onData = (s) => s.write(answer);
    const client = await connect(proxy);
    client.socket.write(request);
    await vi.waitFor(() => expect(client.received().length).toBe(answer.length));
    expect(Buffer.concat(fake.received).equals(request)).toBe(true);
    expect(client.received().equals(answer)).toBe(true);
    await vi.waitFor(() => expect(exchanges).toHaveLength(1));
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close();
    const ex = exchanges[0]!;
    expect(ex.api).toBe('SaslAuthenticate');
    for (const text of [summaryLine(ex), verboseText(ex), jsonLine(ex, true), readFileSync(file, 'utf8')]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(token.toString('hex'));
      expect(text).not.toContain(Buffer.from(password).toString('hex'));
    }
    const recorded = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { frame?: string })
      .filter((l) => l.frame)
      .map((l) => Buffer.from(l.frame!, 'base64').toString('latin1'));
    expect(recorded).toHaveLength(2);
    for (const r of recorded) expect(r).not.toContain(password);
    expect(verboseText(ex)).toMatch(/redacted: SASL token/);
  });
});
