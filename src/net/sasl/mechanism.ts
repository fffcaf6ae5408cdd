/**
 * One SASL exchange as kafka-wire drives it: the client speaks first (every mechanism we
 * support is client-first), then each broker token gets an answer until the mechanism is
 * satisfied. Tokens travel in SaslAuthenticate requests; this layer only makes and checks
 * them, and never puts a secret in an error message.
 */
export interface SaslExchange {
  /** The first token. */
  start(): Promise<Buffer>;
  /** The answer to the broker's token, or undefined when the exchange is complete. */
  next(challenge: Buffer): Promise<Buffer | undefined>;
}
