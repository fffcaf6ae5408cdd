/**
 * KafkaJS's logging contract: `logLevel`, `logCreator(level) => (entry) => void`, and the
 * namespaced logger `producer.logger()` returns. kafka-wire itself logs through NODE_DEBUG;
 * the drop-in logs what a KafkaJS user expects to see (connects, disconnects, failed
 * listeners) through the user's logCreator.
 */

export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;
export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: string;
  log: { timestamp: string; logger: 'kafkajs'; message: string; [key: string]: unknown };
}

export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

export interface Logger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, level?: LogLevel): Logger;
  setLogLevel(level: LogLevel): void;
}

/** KAFKAJS_LOG_LEVEL overrides the configured level, as in KafkaJS. */
function fromEnv(level: LogLevel): LogLevel {
  const name = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase() as keyof typeof logLevel;
  return logLevel[name] ?? level;
}

const LABELS = { [logLevel.ERROR]: 'ERROR', [logLevel.WARN]: 'WARN', [logLevel.INFO]: 'INFO', [logLevel.DEBUG]: 'DEBUG' } as const;

/** KafkaJS's default: one JSON line per entry on the console method of its level. */
export const consoleLogCreator: LogCreator = () => ({ namespace, level, label, log }) => {
  const prefix = namespace ? `[${namespace}] ` : '';
  const line = JSON.stringify({ level: label, ...log, message: `${prefix}${log.message}` });
  if (level === logLevel.ERROR) console.error(line);
  else if (level === logLevel.WARN) console.warn(line);
  else console.log(line);
};

export function createLogger(level: LogLevel = logLevel.INFO, logCreator: LogCreator = consoleLogCreator): Logger {
  const root = { level: fromEnv(level) };
  const write = logCreator(root.level);
  const make = (namespace: string, own: LogLevel | undefined): Logger => {
    const current = (): LogLevel => own ?? root.level;
    const at = (lvl: Exclude<LogLevel, 0>) => (message: string, extra: object = {}): void => {
      if (lvl > current()) return;
      write({ namespace, level: lvl, label: LABELS[lvl], log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra } });
    };
    return {
      error: at(logLevel.ERROR),
      warn: at(logLevel.WARN),
      info: at(logLevel.INFO),
      debug: at(logLevel.DEBUG),
      namespace: (ns, lvl) => make(ns, lvl === undefined ? undefined : fromEnv(lvl)),
      setLogLevel: (lvl) => {
        root.level = lvl;
      },
    };
  };
  return make('', undefined);
}
