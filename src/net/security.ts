/**
 * TLS and SASL settings: their public shapes, their validation, and the one rule that
 * spans all of them: no secret (password, token, private key, passphrase) ever reaches
 * an error message, a debug line or a diagnostics event.
 *
 * Secrets live in `#private` fields of SaslConfig, which neither `util.inspect`,
 * `JSON.stringify` nor `console.log` can see; the copy of the TLS options we keep
 * redacts its key material when inspected or serialised. The objects you pass in are
 * yours and are never changed.
 */
import * as tls from 'node:tls';
import { inspect } from 'node:util';
import { AuthenticationError, ConfigError } from '../errors.js';
import { shown } from '../shown.js';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

export interface PlainSaslOptions {
  mechanism: 'PLAIN';
  username: string;
  password: string;
  /** Act as this identity (RFC 4616 authzid); Kafka accepts only the username itself or empty. */
  authorizationId?: string;
}

export interface ScramSaslOptions {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

export interface OAuthBearerToken {
  /** The compact JWT (or whatever the broker's validator accepts). */
  value: string;
  /** How long the token stays valid from now; lets kafka-wire reuse it until 80% of that has passed. */
  lifetimeMs?: number;
}

export type OAuthBearerTokenProvider = () => string | OAuthBearerToken | Promise<string | OAuthBearerToken>;

export interface OAuthBearerSaslOptions {
  mechanism: 'OAUTHBEARER';
  /**
   * Called for each authentication and re-authentication, unless the last token came with
   * a `lifetimeMs` that is not 80% spent. Cache or refresh tokens here as you see fit.
   */
  token: OAuthBearerTokenProvider;
  /** SASL extensions (KIP-342), e.g. `{ logicalCluster: 'lkc-1' }`. */
  extensions?: Readonly<Record<string, string>>;
}

export type SaslOptions = PlainSaslOptions | ScramSaslOptions | OAuthBearerSaslOptions;

/** `true`: TLS with the system's trusted CAs. An object: node:tls options (ca, cert, key, servername, ...). */
export type TlsOptions = boolean | tls.ConnectionOptions;

const REDACTED = '[redacted]';

/**
 * Validated SASL settings with the secret out of sight. One instance is shared by every
 * connection of a producer, so an OAUTHBEARER token with a lifetime is fetched once.
 */
export class SaslConfig {
  readonly mechanism: SaslMechanism;
  readonly username: string | undefined;
  readonly authorizationId: string | undefined;
  readonly extensions: Readonly<Record<string, string>> | undefined;
  readonly #password: string | undefined;
  readonly #provider: OAuthBearerTokenProvider | undefined;
  #token: { value: string; refreshAt: number } | undefined;

  private constructor(opts: SaslOptions) {
    this.mechanism = opts.mechanism;
    if (opts.mechanism === 'OAUTHBEARER') {
      this.#provider = opts.token;
      this.extensions = opts.extensions && { ...opts.extensions };
    } else {
      this.username = opts.username;
      this.#password = opts.password;
      if (opts.mechanism === 'PLAIN') this.authorizationId = opts.authorizationId;
    }
    Object.freeze(this.extensions);
  }

  /** Checks `opts` and copies what it needs; throws a ConfigError that never quotes a secret. */
  static from(opts: SaslOptions | SaslConfig): SaslConfig {
    if (opts instanceof SaslConfig) return opts;
    if (typeof opts !== 'object' || opts === null) throw new ConfigError('sasl must be an object with a mechanism');
    const mechanism = (opts as { mechanism?: unknown }).mechanism;
    if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
      throw new ConfigError(`sasl.mechanism must be one of ${SASL_MECHANISMS.join(', ')}, got ${shown(mechanism)}`);
    }
    const o = opts as unknown as Record<string, unknown>;
    const allowed =
      mechanism === 'OAUTHBEARER' ? ['mechanism', 'token', 'extensions'] : mechanism === 'PLAIN' ? ['mechanism', 'username', 'password', 'authorizationId'] : ['mechanism', 'username', 'password'];
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) throw new ConfigError(`sasl option ${JSON.stringify(key)} does not apply to ${String(mechanism)}`);
    }
    if (mechanism === 'OAUTHBEARER') {
      if (typeof o['token'] !== 'function') throw new ConfigError('sasl.token must be a function returning a token (or a promise of one)');
      const ext = o['extensions'];
      if (ext !== undefined) {
        if (typeof ext !== 'object' || ext === null) throw new ConfigError('sasl.extensions must be an object of strings');
        for (const [key, value] of Object.entries(ext)) {
          // RFC 7628 section 3.1: key = 1*ALPHA, value = *(VCHAR / SP / HTAB / CR / LF); "auth" is the token itself.
          if (!/^[A-Za-z]+$/.test(key) || key === 'auth') throw new ConfigError(`sasl.extensions key ${JSON.stringify(key)} must be letters only and not "auth"`);
          if (typeof value !== 'string' || !/^[\x21-\x7E \t\r\n]*$/.test(value)) throw new ConfigError(`sasl.extensions.${key} must be a string of printable ASCII`);
        }
      }
    } else {
      if (typeof o['username'] !== 'string' || o['username'].length === 0) throw new ConfigError(`sasl.username must be a non-empty string for ${mechanism}`);
      if (typeof o['password'] !== 'string' || o['password'].length === 0) throw new ConfigError(`sasl.password must be a non-empty string for ${mechanism}`);
      // PLAIN separates its three fields with NUL: a NUL inside one would shift the others.
      if (mechanism === 'PLAIN' && [o['username'], o['password'], o['authorizationId'] ?? ''].some((v) => String(v).includes('\0'))) {
        throw new ConfigError('sasl username, password and authorizationId may not contain NUL characters for PLAIN');
      }
      if (o['authorizationId'] !== undefined && typeof o['authorizationId'] !== 'string') throw new ConfigError('sasl.authorizationId must be a string');
    }
    const config = new SaslConfig(opts as SaslOptions);
    Object.freeze(config);
    return config;
  }

  /** For PLAIN and SCRAM only. Read where a message is built, never stored elsewhere. */
  password(): string {
    if (this.#password === undefined) throw new ConfigError(`${this.mechanism} has no password`);
    return this.#password;
  }

  /** The OAUTHBEARER token: cached while its lifetime allows, else asked of the provider. */
  async token(now = Date.now()): Promise<string> {
    if (this.#token && now < this.#token.refreshAt) return this.#token.value;
    if (!this.#provider) throw new ConfigError(`${this.mechanism} has no token provider`);
    let got: string | OAuthBearerToken;
    try {
      got = await this.#provider();
    } catch (err) {
      throw new AuthenticationError('the OAUTHBEARER token provider failed', { reason: 'token', cause: err });
    }
    const value = typeof got === 'string' ? got : got?.value;
    if (typeof value !== 'string' || value.length === 0 || /[\x00-\x20\x7F]/.test(value)) {
      throw new AuthenticationError('the OAUTHBEARER token provider gave no usable token (a non-empty string of printable characters)', { reason: 'token' });
    }
    const lifetimeMs = typeof got === 'object' ? got.lifetimeMs : undefined;
    this.#token = lifetimeMs !== undefined && lifetimeMs > 0 ? { value, refreshAt: now + lifetimeMs * 0.8 } : undefined;
    return value;
  }

  /** What may be shown: everything but the secret. */
  #visible(): Record<string, unknown> {
    if (this.mechanism === 'OAUTHBEARER') {
      return { mechanism: this.mechanism, token: REDACTED, ...(this.extensions ? { extensions: this.extensions } : {}) };
    }
    return {
      mechanism: this.mechanism,
      username: this.username,
      password: REDACTED,
      ...(this.authorizationId !== undefined ? { authorizationId: this.authorizationId } : {}),
    };
  }

  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect = inspect): string {
    return `SaslConfig ${inspectFn(this.#visible(), options)}`;
  }

  toJSON(): Record<string, unknown> {
    return this.#visible();
  }

  toString(): string {
    return `SaslConfig(${this.mechanism}${this.username !== undefined ? `, ${this.username}` : ''})`;
  }
}

/** Undefined means no SASL. */
export function resolveSasl(opts: SaslOptions | SaslConfig | undefined): SaslConfig | undefined {
  return opts === undefined ? undefined : SaslConfig.from(opts);
}

/** node:tls options whose secret fields are hidden from inspect and JSON. */
const SECRET_TLS_FIELDS = ['key', 'passphrase', 'pfx', 'pskCallback'] as const;

/**
 * `true` → TLS with defaults; `false`/undefined → plaintext; an object → a copy that
 * redacts its key material when inspected or serialised.
 */
export function resolveTls(opts: TlsOptions | undefined): tls.ConnectionOptions | undefined {
  if (opts === undefined || opts === false) return undefined;
  if (opts === true) return redactingTls({});
  if (typeof opts !== 'object' || opts === null) throw new ConfigError('tls must be true, false or an object of node:tls options');
  if (opts.rejectUnauthorized !== undefined && typeof opts.rejectUnauthorized !== 'boolean') {
    throw new ConfigError('tls.rejectUnauthorized must be a boolean');
  }
  return redactingTls({ ...opts });
}

function redactingTls(copy: tls.ConnectionOptions): tls.ConnectionOptions {
  const visible = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(copy)) {
      out[k] = (SECRET_TLS_FIELDS as readonly string[]).includes(k) && v !== undefined ? REDACTED : k === 'ca' || k === 'cert' ? '[PEM]' : v;
    }
    return out;
  };
  // Non-enumerable: `{ ...tlsOptions }` (what tls.connect gets) carries neither along.
  Object.defineProperty(copy, inspect.custom, {
    value: (_depth: number, options: object, inspectFn: typeof inspect = inspect) => `TlsOptions ${inspectFn(visible(), options)}`,
  });
  Object.defineProperty(copy, 'toJSON', { value: visible });
  return copy;
}

let warnedInsecure = false;

/**
 * Turning verification off must be a visible decision: one process warning, however
 * many connections follow.
 */
export function warnIfInsecure(opts: tls.ConnectionOptions): void {
  if (opts.rejectUnauthorized !== false || warnedInsecure) return;
  warnedInsecure = true;
  process.emitWarning(
    'kafka-wire: TLS certificate verification is disabled (tls.rejectUnauthorized: false); any host can pose as your brokers and read everything',
    { code: 'KAFKA_WIRE_TLS_INSECURE' },
  );
}

/** OpenSSL's X509_V_ERR_* names as Node reports them: the broker's certificate did not verify. */
const CERT_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** TLS alerts the broker sends when it refuses our certificate (or our lack of one). */
const CLIENT_CERT_REFUSED = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED|DECRYPT_ERROR)/;

/**
 * A TLS failure that retrying cannot fix, as an AuthenticationError that says what was
 * wrong; undefined for anything else (a refused or reset connection stays a retriable
 * ConnectionError).
 */
export function tlsFailure(err: unknown, broker: string, opts?: tls.ConnectionOptions): AuthenticationError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const e = err as Error & { host?: string; reason?: string };
    return new AuthenticationError(
      `host name mismatch: the certificate of ${broker} is not valid for ${JSON.stringify(e.host ?? '?')}: ${e.reason ?? err.message} (set tls.servername to a name the certificate has, or fix the certificate)`,
      { reason: 'hostname', broker, cause: err },
    );
  }
  if (CERT_VERIFY_CODES.has(code)) {
    return new AuthenticationError(
      `certificate verify failed: ${err.message} (${code}) for ${broker}; does tls.ca hold the CA that signed the broker's certificate?`,
      { reason: 'certificate', broker, cause: err },
    );
  }
  if (code.startsWith('ERR_SSL_')) {
    const sentCert = opts?.cert !== undefined || opts?.pfx !== undefined;
    const hint = CLIENT_CERT_REFUSED.test(code)
      ? sentCert
        ? ': the broker refused our client certificate (is it signed by a CA the broker trusts?)'
        : ': the broker requires a client certificate (tls.cert and tls.key)'
      : code.includes('WRONG_VERSION_NUMBER') || code.includes('PACKET_LENGTH_TOO_LONG')
        ? ': is this a TLS listener?'
        : '';
    // OpenSSL's message is a multi-line dump of its error queue; its `reason` says the same in a few words.
    const what = (err as Error & { reason?: string }).reason ?? err.message.split('\n')[0];
    return new AuthenticationError(`TLS handshake with ${broker} failed: ${what} (${code})${hint}`, { reason: 'tls', broker, cause: err });
  }
  return undefined;
}
