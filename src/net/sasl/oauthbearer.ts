/**
 * OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255): one client token carrying the
 * bearer token and any SASL extensions (KIP-342):
 *
 *   n,,<SOH>auth=Bearer <token><SOH>[key=value<SOH>...]<SOH>
 *
 * On success the broker answers with an empty token. On failure it first sends a JSON
 * error document as a challenge, which the client must acknowledge with a lone SOH; only
 * then does the broker fail the exchange with an error code (RFC 7628 section 3.2.3).
 */
import { AuthenticationError } from '../../errors.js';
import type { SaslConfig } from '../security.js';
import type { SaslExchange } from './mechanism.js';

const SOH = '\x01';

export function oauthBearerExchange(config: SaslConfig): SaslExchange {
  let failed = false;
  return {
    async start() {
      const token = await config.token();
      const extensions = Object.entries(config.extensions ?? {})
        .map(([key, value]) => `${key}=${value}${SOH}`)
        .join('');
      return Buffer.from(`n,,${SOH}auth=Bearer ${token}${SOH}${extensions}${SOH}`, 'utf8');
    },
    async next(challenge) {
      if (challenge.length === 0) return undefined;
      if (failed) {
        throw new AuthenticationError('OAUTHBEARER: the broker sent another challenge after the error acknowledgement', { reason: 'sasl' });
      }
      // The error document ({"status":"invalid_token",...}) holds no secret; the broker's
      // final error message repeats what it says, so it needs no keeping here.
      failed = true;
      return Buffer.from(SOH, 'utf8');
    },
  };
}
