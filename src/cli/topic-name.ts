/**
 * Kafka's rule for topic names (Topic.validate in Apache Kafka), checked before anything is
 * sent: a broker's INVALID_TOPIC_EXCEPTION names neither the flag nor the rule.
 */
import { UsageError } from './usage-error.js';

/** The longest topic name Kafka accepts. */
export const MAX_TOPIC_NAME = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** What is wrong with `name` as a topic name (or a part of one), or undefined. */
export function topicNameProblem(name: string, maxLength = MAX_TOPIC_NAME): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return 'cannot be "." or ".."';
  if (name.length > maxLength) return `is ${name.length} characters long, over ${maxLength}`;
  if (!LEGAL.test(name)) return 'may hold only ASCII letters, digits, ".", "_" and "-"';
  return undefined;
}

/** A UsageError naming `flag` if `name` is no legal topic name (with `maxLength`, a part of one). */
export function checkTopicName(name: string, flag: string, maxLength = MAX_TOPIC_NAME): void {
  const problem = topicNameProblem(name, maxLength);
  if (problem) throw new UsageError(`${flag} ${JSON.stringify(name)} ${problem}`);
}
