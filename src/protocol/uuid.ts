/**
 * Kafka UUIDs (topic ids, cluster ids) in the form Kafka's own tools print them:
 * the 16 bytes in URL-safe base64 without padding, 22 characters.
 */
import { ProtocolError } from '../errors.js';

/** The all-zero UUID Kafka uses for "no id" (`Uuid.ZERO_UUID`). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function uuidFromBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('base64url');
}

export function uuidToBytes(uuid: string): Buffer {
  const bytes = Buffer.from(uuid, 'base64url');
  if (bytes.length !== 16 || uuid.length !== 22) {
    throw new ProtocolError(`not a Kafka UUID (22 base64url characters): ${JSON.stringify(uuid)}`);
  }
  return bytes;
}
