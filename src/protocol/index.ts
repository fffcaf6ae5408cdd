/**
 * The protocol layer on its own: pure functions from values to bytes and back, with no
 * sockets or timers. `import { ... } from 'kafka-wire/protocol'`.
 */
export { decodeBody, defineApi, encodeBody, type ApiDefinition, type RequestOf, type ResponseOf } from './api.js';
export * from './apis/index.js';
export { API_NAMES, apiName } from './api-keys.js';
export { ERROR_TABLE, ErrorCode, errorCode, errorCodeInfo, type ErrorCodeInfo, type ErrorCodeName } from './error-codes.js';
export { correlationIdOf, decodeResponse, encodeRequest, requestHeaderVersion, responseHeaderVersion } from './frame.js';
export { Reader } from './reader.js';
export { arrayOf, field, parseVersions, type FieldSpec, type FieldType, type Input, type Output } from './schema.js';
export * from './sizes.js';
export { uuidFromBytes, uuidToBytes, ZERO_UUID } from './uuid.js';
export { Writer } from './writer.js';
