/** Error codes as the report shows them: Kafka's names. */
import { BrokerError } from '../errors.js';

export function errorName(code: number): string {
  return new BrokerError(code).type;
}
