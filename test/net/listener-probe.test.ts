/**
 * The probe that tells a SASL listener from a connection that was only closed: on fake
 * servers, because no real broker can be made to close one connection at will while
 * answering a SASL handshake on a listener where SASL is optional (franz-go's kfake does).
 */
import type * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { saslMechanismsOffered } from '../../src/net/listener-probe.js';
import { Metadata } from '../../src/protocol/apis/index.js';
import { apiVersionsBody, fakeServer, responseFrame, type FakeServer, type ReceivedRequest } from '../helpers/fake-server.js';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const METADATA = 3;

/** SaslHandshake v1 answer: no error, the mechanisms the listener offers. */
function handshakeBody(mechanisms: readonly string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(mechanisms.length);
  for (const m of mechanisms) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(m));
    parts.push(len, Buffer.from(m));
  }
  return Buffer.concat(parts);
}

/** Metadata v1 answer: no broker, no controller, no topic. */
const EMPTY_METADATA_V1 = Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** A listener that answers ApiVersions and the handshake, and Metadata only when `metadataBeforeAuth`. */
function listener(metadataBeforeAuth: boolean) {
  return (req: ReceivedRequest, socket: net.Socket): void => {
    // Refused above v0 (KIP-511: the client then asks at the highest version offered).
    if (req.apiKey === API_VERSIONS && req.apiVersion > 0) socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 35, [[API_VERSIONS, 0, 0]])));
    else if (req.apiKey === API_VERSIONS) socket.write(responseFrame(req.correlationId, apiVersionsBody(0, 0, [[API_VERSIONS, 0, 0], [SASL_HANDSHAKE, 0, 1], [METADATA, 0, 1]])));
    else if (req.apiKey === SASL_HANDSHAKE) socket.write(responseFrame(req.correlationId, handshakeBody(['PLAIN', 'SCRAM-SHA-256'])));
    else if (req.apiKey === METADATA && metadataBeforeAuth) socket.write(responseFrame(req.correlationId, EMPTY_METADATA_V1));
    // As Kafka's SASL listeners do with any other request before authentication.
    else socket.destroy();
  };
}

describe('saslMechanismsOffered', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a listener that requires SASL (closes at Metadata before authentication): its mechanisms', async () => {
    server = await fakeServer(listener(false));
    expect(await saslMechanismsOffered({ host: server.host, port: server.port })).toEqual(['PLAIN', 'SCRAM-SHA-256']);
  });

  it('a listener that answers the handshake but also Metadata without authentication (kfake): not a SASL listener', async () => {
    server = await fakeServer(listener(true));
    expect(await saslMechanismsOffered({ host: server.host, port: server.port })).toBeNull();
    expect(server.requests.map((r) => r.apiKey)).toContain(METADATA);
  });

  it('a plaintext listener that closed one connection at its first request: the error says it was not for want of SASL', async () => {
    let connections = 0;
    const seen = new WeakSet<net.Socket>();
    const plaintext = listener(true);
    server = await fakeServer((req, socket) => {
      if (!seen.has(socket)) {
        seen.add(socket);
        connections++;
      }
      // The first connection is dropped at its first request after ApiVersions, as by a restart.
      if (connections === 1 && req.apiKey !== API_VERSIONS) return void socket.destroy();
      plaintext(req, socket);
    });
    const conn = await BrokerConnection.open({ host: server.host, port: server.port });
    const sent = conn.send(Metadata, 1, { topics: [] });
    await expect(sent).rejects.toThrow(ConnectionError);
    await expect(sent).rejects.toThrow(/unanswered: not for want of SASL \(a second connection was answered without it\)/);
    // What the broker link keeps for later messages (a metadata timeout's) says the same.
    expect((await conn.explainedClose())?.message).toMatch(/unanswered: not for want of SASL/);
    expect(server.requests.filter((r) => r.apiKey === SASL_HANDSHAKE)).toHaveLength(1); // one probe for both
    conn.close();
  });
});
