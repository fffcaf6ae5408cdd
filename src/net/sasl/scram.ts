/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), client side, without channel
 * binding (Kafka offers none):
 *
 *   client-first   n,,n=<user>,r=<client nonce>
 *   server-first   r=<client nonce + server nonce>,s=<salt>,i=<iterations>
 *   client-final   c=biws,r=<nonce>,p=<proof>
 *   server-final   v=<server signature>
 *
 * The password never leaves this process: only a proof derived from it does. The server
 * proves in turn that it knows the stored key; a broker that cannot is not the broker we
 * meant, and the exchange fails even if it says "ok".
 *
 * Kafka hashes the password's UTF-8 bytes as they are (no SASLprep), on the broker and
 * in the Java client; so do we, or non-ASCII passwords would not match.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../../errors.js';
import type { SaslConfig } from '../security.js';
import type { SaslExchange } from './mechanism.js';

const HASH = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' } as const;

/** Kafka refuses fewer (ScramMechanism.minIterations); a server asking fewer is downgrading us. */
export const SCRAM_MIN_ITERATIONS = 4096;
/** A sanity bound: a hostile server should not be able to make us hash for minutes. */
export const SCRAM_MAX_ITERATIONS = 1_000_000;

/** GS2 header without channel binding or authzid; `c=` carries its base64. */
const GS2_HEADER = 'n,,';

/** RFC 5802 saslname: `=` and `,` must be escaped in the user name. */
export function saslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** RFC 5802 attribute list `a=v,b=w` (values may contain `=`, never `,`). */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) continue;
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

export interface ScramSteps {
  hash: 'sha256' | 'sha512';
  username: string;
  password: string;
  clientNonce: string;
}

export interface ScramProof {
  clientFinal: string;
  /** What the server must send back as `v=`. */
  serverSignature: Buffer;
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest();
}

export function clientFirstBare(username: string, clientNonce: string): string {
  return `n=${saslName(username)},r=${clientNonce}`;
}

/** Checks the server-first message and computes the client-final message and the expected server signature. */
export async function clientFinal(steps: ScramSteps, serverFirst: string): Promise<ScramProof> {
  const attrs = attributes(serverFirst);
  if (attrs.has('m')) throw scramError('the server requires a SCRAM extension kafka-wire does not know');
  if (attrs.has('e')) throw scramError(`the server refused: ${attrs.get('e')}`);
  const nonce = attrs.get('r');
  const salt = attrs.get('s');
  const iterations = Number(attrs.get('i'));
  if (!nonce || salt === undefined || !Number.isInteger(iterations)) throw scramError('malformed server-first message');
  // The server's nonce must extend ours: otherwise this answers someone else's exchange (a replay).
  if (!nonce.startsWith(steps.clientNonce) || nonce.length <= steps.clientNonce.length) throw scramError('the server nonce does not extend the client nonce');
  if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
    throw scramError(`the server asks for ${iterations} iterations; kafka-wire accepts ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS}`);
  }
  const size = steps.hash === 'sha256' ? 32 : 64;
  const salted = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(steps.password, 'utf8'), Buffer.from(salt, 'base64'), iterations, size, steps.hash, (err, key) => (err ? reject(err) : resolve(key))),
  );
  const clientKey = hmac(steps.hash, salted, 'Client Key');
  const storedKey = createHash(steps.hash).update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
  const authMessage = `${clientFirstBare(steps.username, steps.clientNonce)},${serverFirst},${withoutProof}`;
  const clientSignature = hmac(steps.hash, storedKey, authMessage);
  const proof = Buffer.alloc(size);
  for (let i = 0; i < size; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
  const serverKey = hmac(steps.hash, salted, 'Server Key');
  return { clientFinal: `${withoutProof},p=${proof.toString('base64')}`, serverSignature: hmac(steps.hash, serverKey, authMessage) };
}

/** Throws unless the server-final message carries exactly the expected signature. */
export function verifyServerFinal(serverFinal: string, expected: Buffer): void {
  const attrs = attributes(serverFinal);
  if (attrs.has('e')) throw scramError(`the server refused: ${attrs.get('e')}`);
  const v = attrs.get('v');
  const got = v === undefined ? undefined : Buffer.from(v, 'base64');
  if (!got || got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new AuthenticationError('SCRAM: the server signature does not match: the server does not know this user\'s stored key (not the broker we meant?)', {
      reason: 'server-signature',
    });
  }
}

function scramError(what: string): AuthenticationError {
  return new AuthenticationError(`SCRAM: ${what}`, { reason: 'sasl' });
}

export function scramExchange(config: SaslConfig): SaslExchange {
  const steps: ScramSteps = {
    hash: HASH[config.mechanism as keyof typeof HASH],
    username: config.username!,
    password: '',
    // 24 random bytes; base64 never contains the ',' that would end the attribute.
    clientNonce: randomBytes(24).toString('base64'),
  };
  let expected: Buffer | undefined;
  let done = false;
  return {
    start: async () => Buffer.from(`${GS2_HEADER}${clientFirstBare(steps.username, steps.clientNonce)}`, 'utf8'),
    async next(challenge) {
      if (done) throw scramError('the server sent a token after the exchange was complete');
      if (expected === undefined) {
        const proof = await clientFinal({ ...steps, password: config.password() }, challenge.toString('utf8'));
        expected = proof.serverSignature;
        return Buffer.from(proof.clientFinal, 'utf8');
      }
      verifyServerFinal(challenge.toString('utf8'), expected);
      done = true;
      return undefined;
    },
  };
}
