/**
 * The producer from KafkaJS's README, moved to kafka-wire by changing its import line
 * alone: kafka-wire/kafkajs speaks KafkaJS's producer API. Only the addresses and the
 * topic come from the environment here, so that it runs against any broker.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 npx tsx producer.ts
 */
import { Kafka } from 'kafka-wire/kafkajs'; // was: import { Kafka } from 'kafkajs'

const kafka = new Kafka({
  clientId: 'my-app',
  brokers: (process.env.KAFKA_BOOTSTRAP ?? 'localhost:9092').split(','),
});

const producer = kafka.producer();

await producer.connect();
const result = await producer.send({
  topic: process.env.TOPIC ?? 'test-topic',
  messages: [{ value: 'Hello KafkaJS user!' }],
});
console.log('sent:', result);

await producer.disconnect();
