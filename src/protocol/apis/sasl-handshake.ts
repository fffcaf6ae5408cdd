/**
 * SaslHandshake (key 17): the client names its SASL mechanism; the broker answers with
 * the mechanisms it enables. v1 (KIP-152) means every SASL token that follows travels in
 * a SaslAuthenticate request; v0 meant raw size-prefixed tokens, which kafka-wire does not
 * speak. The broker stays at v1 on purpose (KAFKA-9577: old clients negotiated badly).
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const SaslHandshake = defineApi({
  key: 17,
  name: 'SaslHandshake',
  versions: '0-1',
  // Kafka's spec says "none". Written as the first version past the range instead:
  // SaslHandshake has no flexible version: its header must stay readable by any broker.
  flexible: 'none',
  request: [field('mechanism', 'string', '0+')],
  response: [field('errorCode', 'int16', '0+'), field('mechanisms', arrayOf('string'), '0+')],
});
