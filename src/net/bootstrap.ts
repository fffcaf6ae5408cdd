import { ConfigError } from '../errors.js';
import { shown } from '../shown.js';

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port[,host:port...]` (a bracketed IPv6 host allowed), the form Kafka's
 * tools and `KAFKA_BOOTSTRAP` use.
 */
export function parseBootstrap(value: string | readonly string[]): BrokerAddress[] {
  // Checked, not trusted: a number, an object or null from a JavaScript caller (or a config
  // file) would otherwise fail as a TypeError from deep inside.
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (!list || !list.every((s) => typeof s === 'string')) {
    throw new ConfigError(`bootstrap must be "host:port" (several separated by commas) or an array of such strings, got ${shown(value)}`);
  }
  const items = (list as string[]).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError('no bootstrap broker given (expected host:port)');
  return items.map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new ConfigError(`bad broker address ${JSON.stringify(item)} (expected host:port)`);
    return { host: (m[1] ?? m[2])!, port };
  });
}
