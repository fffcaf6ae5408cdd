import { ConfigError } from '../errors.js';

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port[,host:port...]` (a bracketed IPv6 host allowed), the form Kafka's
 * tools and `KAFKA_BOOTSTRAP` use.
 */
export function parseBootstrap(value: string | readonly string[]): BrokerAddress[] {
  const items = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError('no bootstrap broker given (expected host:port)');
  return items.map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new ConfigError(`bad broker address ${JSON.stringify(item)} (expected host:port)`);
    return { host: (m[1] ?? m[2])!, port };
  });
}
