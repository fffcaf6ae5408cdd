export {
  BrokerError,
  ConfigError,
  ConnectionError,
  KafkaWireError,
  ProtocolError,
  RequestTimeoutError,
  UnsupportedVersionError,
  type ErrorContext,
} from './errors.js';
export { BrokerConnection, type BrokerFeatures } from './net/broker-connection.js';
export { Connection, CONNECTION_DEFAULTS, type ConnectionOptions, type RequestOptions } from './net/connection.js';
export { parseBootstrap, type BrokerAddress } from './net/bootstrap.js';
