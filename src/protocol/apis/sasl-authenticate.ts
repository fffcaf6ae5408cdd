/**
 * SaslAuthenticate (key 36): one SASL token each way. v1 adds the session lifetime
 * (KIP-368): past it the broker serves the connection only for re-authentication.
 */
import { defineApi } from '../api.js';
import { field } from '../schema.js';

export const SaslAuthenticate = defineApi({
  key: 36,
  name: 'SaslAuthenticate',
  versions: '0-2',
  flexible: '2+',
  request: [field('authBytes', 'bytes', '0+')],
  response: [
    field('errorCode', 'int16', '0+'),
    field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    field('authBytes', 'bytes', '0+'),
    field('sessionLifetimeMs', 'int64', '1+', { default: 0n, ignorable: true }),
  ],
});
