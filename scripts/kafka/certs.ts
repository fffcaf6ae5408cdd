/**
 * Throw-away certificates for TLS tests, made with the `openssl` command line at set-up
 * (keytool is only a fallback we do not need: Kafka reads PEM key and trust stores since
 * 2.7, KIP-651, so one tool makes everything both Java and Node read).
 *
 * Made: a test CA; a broker certificate for `localhost` and `127.0.0.1` (SAN) signed by
 * it; a client certificate for mutual TLS signed by it; and a second, unrelated "wrong"
 * CA with a client certificate of its own, for the negative tests.
 *
 * Keys are P-256: generated in milliseconds, and read by both JSSE and OpenSSL. They are
 * unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), the one PEM key form Kafka's PEM store takes
 * without `ssl.key.password`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface CertificatePair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8, unencrypted). */
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestCertificates {
  dir: string;
  /** The CA that signed the broker and client certificates. */
  ca: CertificatePair;
  /** For `ssl.keystore.location` with `ssl.keystore.type=PEM`: key, certificate, CA. */
  brokerKeystoreFile: string;
  broker: CertificatePair;
  /** Signed by `ca`: accepted by a broker that requires client certificates. */
  client: CertificatePair;
  /** A CA nothing here was signed by: trusting only it must fail. */
  wrongCa: CertificatePair;
  /** Signed by `wrongCa`: a broker that trusts `ca` refuses it. */
  wrongClient: CertificatePair;
}

/** Whether `openssl` can be run; the TLS parts of the harness need it. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    await openssl(['version'], process.cwd());
    return true;
  } catch {
    return false;
  }
}

export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true });
  const ca = await selfSignedCa(dir, 'ca', 'kafka-wire test CA');
  const wrongCa = await selfSignedCa(dir, 'wrong-ca', 'kafka-wire unrelated CA');
  const broker = await signed(dir, 'broker', 'localhost', ca, [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth,clientAuth',
  ]);
  const client = await signed(dir, 'client', 'kafka-wire-client', ca, ['extendedKeyUsage=clientAuth']);
  const wrongClient = await signed(dir, 'wrong-client', 'kafka-wire-client', wrongCa, ['extendedKeyUsage=clientAuth']);

  const brokerKeystoreFile = path.join(dir, 'broker-keystore.pem');
  await writeFile(brokerKeystoreFile, `${broker.key.trim()}\n${broker.cert.trim()}\n${ca.cert.trim()}\n`, { mode: 0o600 });
  return { dir, ca, brokerKeystoreFile, broker, client, wrongCa, wrongClient };
}

async function selfSignedCa(dir: string, name: string, commonName: string): Promise<CertificatePair> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  await openssl(
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyFile, '-out', certFile, '-days', '7', '-subj', `/CN=${commonName}`],
      ...['-set_serial', serial()],
      // Explicit, so that no distribution's openssl.cnf decides whether this is a CA.
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ],
    dir,
  );
  return pair(keyFile, certFile);
}

async function signed(dir: string, name: string, commonName: string, issuer: CertificatePair, extensions: string[]): Promise<CertificatePair> {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  await writeFile(extFile, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyAgreement', ...extensions].join('\n') + '\n');
  await openssl(
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${commonName}`],
    dir,
  );
  await openssl(
    [
      ...['x509', '-req', '-in', csrFile, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-set_serial', serial()],
      ...['-days', '7', '-out', certFile, '-extfile', extFile],
    ],
    dir,
  );
  return pair(keyFile, certFile);
}

async function pair(keyFile: string, certFile: string): Promise<CertificatePair> {
  const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
  return { key, cert, keyFile, certFile };
}

/** A random positive serial: two test CAs must never issue look-alike certificates. */
function serial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return `0x${bytes.toString('hex')}`;
}

function openssl(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}
