/**
 * ListOffsets (key 2): the offset for a timestamp; -1 asks for the end (the next offset
 * to be written), -2 for the start. The conformance checks count what reached a broker
 * by end offsets, not by what the client believes it sent.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;

export const ListOffsets = defineApi({
  key: 2,
  name: 'ListOffsets',
  versions: '1-11',
  flexible: '6+',
  clientThrottlesFrom: 3,
  request: [
    field('replicaId', 'int32', '0+', { default: -1 }),
    field('isolationLevel', 'int8', '2+'),
    field(
      'topics',
      arrayOf([
        field('name', 'string', '0+'),
        field(
          'partitions',
          arrayOf([
            field('partitionIndex', 'int32', '0+'),
            field('currentLeaderEpoch', 'int32', '4+', { default: -1, ignorable: true }),
            field('timestamp', 'int64', '0+'),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
    field('timeoutMs', 'int32', '10+', { ignorable: true }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '2+', { ignorable: true }),
    field(
      'topics',
      arrayOf([
        field('name', 'string', '0+'),
        field(
          'partitions',
          arrayOf([
            field('partitionIndex', 'int32', '0+'),
            field('errorCode', 'int16', '0+'),
            field('timestamp', 'int64', '1+', { default: -1n }),
            field('offset', 'int64', '1+', { default: -1n }),
            field('leaderEpoch', 'int32', '4+', { default: -1 }),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
  ],
});
