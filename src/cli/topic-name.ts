/**
 * Topic names given on the command line, checked by Kafka's rule (the producer's own,
 * src/producer/validate.ts) before anything is sent: a broker's INVALID_TOPIC_EXCEPTION
 * names neither the flag nor the rule.
 */
import { MAX_TOPIC_NAME, topicNameProblem } from '../producer/validate.js';
import { UsageError } from './usage-error.js';

export { MAX_TOPIC_NAME };

/** A UsageError naming `flag` if `name` is no legal topic name (with `maxLength`, a part of one). */
export function checkTopicName(name: string, flag: string, maxLength = MAX_TOPIC_NAME): void {
  const problem = topicNameProblem(name, maxLength);
  if (problem) throw new UsageError(`${flag} ${JSON.stringify(name)} ${problem}`);
}
