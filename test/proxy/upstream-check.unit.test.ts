/**
 * `kafka-wire proxy` tries its upstream once before it listens: an upstream it cannot use
 * is one line and exit 1 (not a "listening" line and a failure per client connection),
 * saying what the proxy's flags lack; --no-upstream-check starts it anyway.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyCommand } from '../../src/cli/proxy-command.js';
import { KafkaWireError } from '../../src/errors.js';
import { ApiVersions } from '../../src/protocol/apis/index.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { checkUpstream } from '../../src/proxy/upstream.js';
import { apiVersionsBody, fakeServer, responseFrame, type FakeServer } from '../helpers/fake-server.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function upstream(respond: Parameters<typeof fakeServer>[0]): Promise<FakeServer> {
  const server = await fakeServer(respond);
  servers.push(server);
  return server;
}

/** A TLS alert record (handshake failure), as a TLS listener may answer bytes that are no ClientHello. */
const TLS_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

describe('the proxy tries its upstream before it listens', () => {
  it('an upstream that refuses: one error naming it and --no-upstream-check, before anything listens', async () => {
    const err = await proxyCommand({ upstream: '127.0.0.1:1', listen: '127.0.0.1:0', verbose: false, json: false, errorsOnly: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaWireError);
    expect((err as Error).message).toMatch(/^proxy: checking the upstream: cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED.* \(--no-upstream-check starts the proxy anyway\)$/);
  });

  it('a TLS listener dialled without --tls: says the proxy needs --tls (not the client)', async () => {
    const server = await upstream((_req, socket) => socket.end(TLS_ALERT));
    await expect(checkUpstream({ host: server.host, port: server.port })).rejects.toThrow(
      `127.0.0.1:${server.port} answers in TLS: give the proxy --tls (or --tls-ca FILE); its clients still talk plaintext to it`,
    );
  });

  it('a listener that answers ApiVersions and closes at the next request (SASL): says which flags may be missing', async () => {
    const server = await upstream((req, socket) => {
      if (req.apiKey === 18) socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 0, [[18, 0, 3], [3, 0, 12]])));
      else socket.destroy();
    });
    await expect(checkUpstream({ host: server.host, port: server.port })).rejects.toThrow(/closed the connection during Metadata \(a TLS or SASL listener\? then give the proxy --tls, or --sasl-mechanism and --sasl-username\)$/);
  });

  it('a broker that answers both: the check passes and leaves no connection open', async () => {
    const server = await upstream((req, socket) => {
      if (req.apiKey === 18) socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 0, [[18, 0, 3], [3, 0, 0]])));
      // Metadata v0 for no topic: no brokers, no topics.
      else socket.write(responseFrame(req.correlationId, Buffer.alloc(8)));
    });
    await checkUpstream({ host: server.host, port: server.port });
    expect(server.requests.map((r) => [r.apiKey, r.apiVersion])).toEqual([[18, 0], [3, 0]]);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.sockets.size).toBe(0);
  });

  it('--no-upstream-check: the proxy listens with no upstream there', async () => {
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let printed = '';
    const err = { write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WritableStream;
    const run = proxyCommand({ upstream: '127.0.0.1:1', listen: '127.0.0.1:0', verbose: false, json: false, errorsOnly: false, upstreamCheck: false, stop: stopped, out: err, err });
    await new Promise((r) => setTimeout(r, 200));
    stop();
    expect(await run).toBe(0);
    expect(printed).toMatch(/^proxy: listening on 127\.0\.0\.1:\d+ for 127\.0\.0\.1:1/);
  });

  it('unchecked, a TLS upstream answering a client: the proxy says it needs --tls, the client is not the one to fix', async () => {
    const server = await upstream((_req, socket) => socket.end(TLS_ALERT));
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let printed = '';
    const err = { write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WritableStream;
    const run = proxyCommand({ upstream: `127.0.0.1:${server.port}`, listen: '127.0.0.1:0', verbose: false, json: false, errorsOnly: false, upstreamCheck: false, stop: stopped, out: err, err });
    const deadline = Date.now() + 5000;
    while (!/listening on 127\.0\.0\.1:(\d+)/.test(printed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(printed)![1]);
    const client = net.connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    client.on('data', () => {});
    client.write(encodeRequest(ApiVersions, 0, 1, 'test', {}));
    await new Promise((resolve) => client.once('close', resolve));
    await new Promise((r) => setTimeout(r, 50));
    stop();
    expect(await run).toBe(0);
    expect(printed).toMatch(/response bytes are no Kafka frame .*\(these bytes are TLS\)\); .*; the upstream is a TLS listener: restart the proxy with --tls \(or --tls-ca FILE\)$/m);
  });
});
