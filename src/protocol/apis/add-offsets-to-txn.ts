/** AddOffsetsToTxn (key 25): transactions v1 add a consumer group's offsets to the transaction. */
import { defineApi } from '../api.js';
import { field } from '../schema.js';

export const AddOffsetsToTxn = defineApi({
  key: 25,
  name: 'AddOffsetsToTxn',
  versions: '0-4',
  flexible: '3+',
  clientThrottlesFrom: 1,
  request: [
    field('transactionalId', 'string', '0+'),
    field('producerId', 'int64', '0+'),
    field('producerEpoch', 'int16', '0+'),
    field('groupId', 'string', '0+'),
  ],
  response: [field('throttleTimeMs', 'int32', '0+'), field('errorCode', 'int16', '0+')],
});
