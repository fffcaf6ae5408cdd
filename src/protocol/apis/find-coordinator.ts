/**
 * FindCoordinator (key 10): which broker coordinates a transactional id (key type 1) or
 * a consumer group (key type 0). v4 (KIP-699) looks up several keys in one request.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const COORDINATOR_GROUP = 0;
export const COORDINATOR_TRANSACTION = 1;

export const FindCoordinator = defineApi({
  key: 10,
  name: 'FindCoordinator',
  versions: '0-6',
  flexible: '3+',
  clientThrottlesFrom: 2,
  request: [
    field('key', 'string', '0-3'),
    field('keyType', 'int8', '1+', { default: 0 }),
    field('coordinatorKeys', arrayOf('string'), '4+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+', { ignorable: true }),
    field('errorCode', 'int16', '0-3'),
    field('errorMessage', 'string', '1-3', { nullable: '1-3', default: null, ignorable: true }),
    field('nodeId', 'int32', '0-3'),
    field('host', 'string', '0-3'),
    field('port', 'int32', '0-3'),
    field(
      'coordinators',
      arrayOf([
        field('key', 'string', '4+'),
        field('nodeId', 'int32', '4+'),
        field('host', 'string', '4+'),
        field('port', 'int32', '4+'),
        field('errorCode', 'int16', '4+'),
        field('errorMessage', 'string', '4+', { nullable: '4+', default: null, ignorable: true }),
      ]),
      '4+',
    ),
  ],
});
