/**
 * AlterClientQuotas (key 49, KIP-546): sets or removes quotas for a user, client id or
 * IP. The conformance suite uses it, with the `--admin` flag, to give its own client id
 * a produce byte rate small enough that the broker must throttle it.
 * Entity types: 'user', 'client-id', 'ip'; a null name is the default entity.
 * Keys: 'producer_byte_rate', 'consumer_byte_rate', 'request_percentage', ... (float64).
 * The Java client never throttles itself on this API (no `shouldClientThrottle`): neither do we.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

const entity = arrayOf([field('entityType', 'string', '0+'), field('entityName', 'string', '0+', { nullable: '0+' })]);

export const AlterClientQuotas = defineApi({
  key: 49,
  name: 'AlterClientQuotas',
  versions: '0-1',
  flexible: '1+',
  request: [
    field(
      'entries',
      arrayOf([
        field('entity', entity, '0+'),
        field('ops', arrayOf([field('key', 'string', '0+'), field('value', 'float64', '0+'), field('remove', 'bool', '0+')]), '0+'),
      ]),
      '0+',
    ),
    field('validateOnly', 'bool', '0+', { default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '0+'),
    field(
      'entries',
      arrayOf([
        field('errorCode', 'int16', '0+'),
        field('errorMessage', 'string', '0+', { nullable: '0+' }),
        field('entity', entity, '0+'),
      ]),
      '0+',
    ),
  ],
});
