/**
 * TLS and SASL flags shared by the commands that talk to brokers. The SASL password is
 * read from the environment (KAFKA_WIRE_SASL_PASSWORD), never from the command line,
 * where other users of the machine could see it in the process list.
 */
import { readFileSync } from 'node:fs';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import { UsageError } from './usage-error.js';

export const SECURITY_FLAGS = {
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
  'sasl-mechanism': { type: 'string' },
  'sasl-username': { type: 'string' },
} as const;

export const SECURITY_USAGE = `security (every command that connects):
  --tls [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--tls-servername NAME]
        (any --tls-... flag alone means TLS too: --tls-ca FILE is enough)
  --sasl-mechanism PLAIN|SCRAM-SHA-256|SCRAM-SHA-512 --sasl-username USER
        (password from KAFKA_WIRE_SASL_PASSWORD)
`;

export interface SecurityFlagValues {
  tls?: boolean;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-servername'?: string;
  'sasl-mechanism'?: string;
  'sasl-username'?: string;
}

export function securityFromFlags(v: SecurityFlagValues, env: NodeJS.ProcessEnv = process.env): { tls?: TlsOptions; sasl?: SaslOptions } {
  const out: { tls?: TlsOptions; sasl?: SaslOptions } = {};
  const file = (flag: 'tls-ca' | 'tls-cert' | 'tls-key'): Buffer | undefined => {
    const path = v[flag];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  if (v.tls || v['tls-ca'] || v['tls-cert'] || v['tls-key'] || v['tls-servername']) {
    if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const ca = file('tls-ca');
    const cert = file('tls-cert');
    const key = file('tls-key');
    out.tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(v['tls-servername'] ? { servername: v['tls-servername'] } : {}),
    };
  }
  const mechanism = v['sasl-mechanism'];
  if (mechanism !== undefined) {
    // The mechanism first: asking for the password of a mechanism we do not offer misleads.
    const name = mechanism.toUpperCase();
    if (name !== 'PLAIN' && name !== 'SCRAM-SHA-256' && name !== 'SCRAM-SHA-512') {
      throw new UsageError(`--sasl-mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 on the command line (got ${JSON.stringify(mechanism)})`);
    }
    const username = v['sasl-username'];
    const password = env['KAFKA_WIRE_SASL_PASSWORD'];
    if (username === undefined || password === undefined) {
      const missing = [username === undefined ? '--sasl-username' : '', password === undefined ? 'the password in KAFKA_WIRE_SASL_PASSWORD' : ''].filter(Boolean).join(' and ');
      throw new UsageError(`--sasl-mechanism ${name} needs ${missing}`);
    }
    out.sasl = { mechanism: name, username, password };
  }
  return out;
}
