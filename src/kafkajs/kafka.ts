/**
 * KafkaJS's `Kafka` client: holds the connection settings and makes producers. kafka-wire
 * is a producer, so consumer() and admin() are refused.
 */
import { KafkaJSNonRetriableError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { checkKafkaConfig } from './options.js';
import { KafkaJSProducer } from './producer.js';
import type { KafkaConfig, Producer, ProducerConfig } from './types.js';

const NOT_PROVIDED = 'not provided by kafka-wire/kafkajs: kafka-wire is a producer';

export class Kafka {
  readonly #config: KafkaConfig;
  readonly #logger: Logger;
  #bootstrap: Promise<string[]> | undefined;

  constructor(config: KafkaConfig) {
    checkKafkaConfig(config);
    this.#config = config;
    this.#logger = createLogger(config.logLevel, config.logCreator);
  }

  producer(config: ProducerConfig = {}): Producer {
    const bootstrap = (): Promise<string[]> => this.#resolveBrokers();
    return new KafkaJSProducer({ config: this.#config, logger: this.#logger, bootstrap }, config).api();
  }

  consumer(_config?: unknown): never {
    throw new KafkaJSNonRetriableError(`kafka.consumer() is ${NOT_PROVIDED}`);
  }

  admin(_config?: unknown): never {
    throw new KafkaJSNonRetriableError(`kafka.admin() is ${NOT_PROVIDED}`);
  }

  logger(): Logger {
    return this.#logger;
  }

  /** KafkaJS also takes a function for brokers (service discovery): called once, on first use. */
  #resolveBrokers(): Promise<string[]> {
    const { brokers } = this.#config;
    this.#bootstrap ??= Promise.resolve(typeof brokers === 'function' ? brokers() : brokers).then((list) => {
      if (!Array.isArray(list) || list.length === 0) throw new KafkaJSNonRetriableError('Failed to connect: brokers should not be empty');
      return list;
    });
    return this.#bootstrap;
  }
}
