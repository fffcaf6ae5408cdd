/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * `kafka-wire/wire`: talking to a broker yourself. A `BrokerConnection` negotiates API
 * versions (and SASL/TLS) and sends any API kafka-wire defines at the highest version both
 * sides speak; `Connection` is the bare socket with framing, correlation and timeouts.
 * The request/response codecs (every API definition, request and response framing) are
 * here too; `kafka-wire/protocol` has the whole protocol layer (defining an API, record
 * batches, primitive types).
 *
 * ```ts
 * import { BrokerConnection, Metadata, parseBootstrap } from 'kafka-wire/wire';
 * const [address] = parseBootstrap('127.0.0.1:9092');
 * const broker = await BrokerConnection.open({ ...address!, clientId: 'me' });
 * const { version, response } = await broker.request(Metadata, { topics: null }); // at the negotiated version
 * await broker.close();
 * ```
 */

// Connections.
export { BrokerConnection, type BrokerConnectionOptions, type BrokerFeatures, type VersionRange } from './net/broker-connection.js';
export { Connection, CONNECTION_DEFAULTS, type ConnectionOptions, type RequestOptions } from './net/connection.js';
export { parseBootstrap, type BrokerAddress } from './net/bootstrap.js';

// SASL and TLS settings.
export { SASL_MECHANISMS, SaslConfig } from './net/security.js';
export type {
  OAuthBearerSaslOptions,
  OAuthBearerToken,
  OAuthBearerTokenProvider,
  PlainSaslOptions,
  SaslMechanism,
  SaslOptions,
  ScramSaslOptions,
  TlsOptions,
} from './net/security.js';
export type { AuthenticateEvent } from './net/sasl/index.js';
export type { ConnectEvent } from './net/connection.js';

// Request/response codecs: every API kafka-wire speaks, and their framing.
export * from './protocol/apis/index.js';
export { decodeBody, encodeBody, type AnyApi, type ApiDefinition, type RequestOf, type ResponseOf } from './protocol/api.js';
export { correlationIdOf, decodeResponse, encodeRequest, requestHeaderVersion, responseHeaderVersion } from './protocol/frame.js';
