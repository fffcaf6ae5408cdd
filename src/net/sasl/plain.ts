/**
 * PLAIN (RFC 4616): `authzid NUL username NUL password` in one token. The password goes
 * over the wire as it is, so use it over TLS (SASL_SSL) anywhere but a test bench.
 */
import type { SaslConfig } from '../security.js';
import type { SaslExchange } from './mechanism.js';

export function plainExchange(config: SaslConfig): SaslExchange {
  return {
    start: async () => Buffer.from(`${config.authorizationId ?? ''}\0${config.username!}\0${config.password()}`, 'utf8'),
    // The broker answers success with an empty token and failure with an error code.
    next: async () => undefined,
  };
}
