/**
 * An order service: POST /orders writes the order and its audit event to Kafka in one
 * transaction, so a read_committed consumer sees both or neither. One pooled transactional
 * producer per request in flight; SIGTERM drains the requests in flight, then exits 0.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 PORT=8080 npx tsx server.ts
 *   curl -d '{"customer":"c-1","items":[{"sku":"tea","quantity":2}]}' localhost:8080/orders
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransactionalProducerPool, type RecordMetadata } from 'kafka-wire';

const bootstrap = process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092';
const port = Number(process.env.PORT ?? 8080);
const ordersTopic = process.env.ORDERS_TOPIC ?? 'orders';
const auditTopic = process.env.AUDIT_TOPIC ?? 'orders-audit';
const MAX_BODY_BYTES = 64 * 1024;
/** Orchestrators send SIGKILL after a grace period (30 s in Kubernetes): give up before it. */
const SHUTDOWN_LIMIT_MS = 20_000;

const pool = new TransactionalProducerPool({
  bootstrap,
  clientId: 'orders-api',
  // The most transactions at once; further requests wait for a free producer.
  size: 8,
  // Ids are `${prefix}-0` … `-7`. Keep the prefix stable for this instance, so that after
  // a crash the restarted service fences its predecessor's open transactions, and unique
  // across instances, so that two replicas do not fence each other.
  transactionalIdPrefix: process.env.TRANSACTIONAL_ID_PREFIX ?? 'orders-api-1',
});

interface Order {
  id: string;
  customer: string;
  items: Array<{ sku: string; quantity: number }>;
}

let shuttingDown = false;
let inFlight = 0;

const server = createServer((req, res) => {
  inFlight++;
  res.on('close', () => inFlight--);
  handle(req, res).catch((err: unknown) => {
    // Kafka unreachable, the transaction aborted, ...: nothing of this order was committed.
    console.error(`${req.method} ${req.url} failed:`, err);
    if (!res.headersSent) reply(res, 503, { error: 'the order was not stored; try again' });
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/orders') return reply(res, 404, { error: 'POST /orders only' });
  const body = await readBody(req);
  if (body === undefined) return reply(res, 413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
  const order = parseOrder(body);
  if (typeof order === 'string') return reply(res, 400, { error: order });

  // Both records commit together or not at all; a throw in here aborts the transaction.
  const [stored, audited] = await pool.run((producer) =>
    Promise.all([
      producer.send({ topic: ordersTopic, key: order.id, value: JSON.stringify(order) }),
      producer.send({ topic: auditTopic, key: order.id, value: JSON.stringify({ event: 'order-created', orderId: order.id, at: new Date().toISOString() }) }),
    ]),
  );
  reply(res, 201, { id: order.id, order: position(stored), audit: position(audited) });
}

/** The body as text, or undefined when it is too big (the rest is read and dropped). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/** The order, or what is wrong with the body. */
function parseOrder(body: string): Order | string {
  let input: { customer?: unknown; items?: unknown };
  try {
    input = JSON.parse(body) as typeof input;
  } catch {
    return 'the body is not JSON';
  }
  if (typeof input !== 'object' || input === null) return 'the body is not a JSON object';
  const { customer, items } = input;
  if (typeof customer !== 'string' || customer === '') return '"customer" must be a non-empty string';
  const valid = (item: { sku?: unknown; quantity?: unknown }): boolean =>
    typeof item?.sku === 'string' && Number.isInteger(item.quantity) && (item.quantity as number) > 0;
  if (!Array.isArray(items) || items.length === 0 || !items.every(valid)) {
    return '"items" must be a non-empty list of { "sku": string, "quantity": positive integer }';
  }
  return { id: randomUUID(), customer, items: items.map(({ sku, quantity }) => ({ sku, quantity })) };
}

/** Where a record went; offsets are bigints, which JSON cannot hold, so they go as text. */
function position({ topic, partition, offset }: RecordMetadata): { topic: string; partition: number; offset: string } {
  return { topic, partition, offset: offset.toString() };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  // While draining, a keep-alive connection is closed after its response instead of
  // idling until keepAliveTimeout, which would hold up the exit.
  if (shuttingDown) res.setHeader('connection', 'close');
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    console.error(`shutdown: still not done after ${SHUTDOWN_LIMIT_MS} ms, exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS).unref();
  // No new connections from here; idle keep-alive connections are closed at once. The
  // callback runs when the requests in flight have been answered and their sockets closed.
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  console.log(`${signal}: not accepting connections; finishing ${inFlight} request(s) in flight`);
  await drained;
  // Every transaction has ended by now; this releases the producers' sockets and timers.
  await pool.close();
  console.log('shutdown: done');
  // Nothing is left to keep the event loop alive, so the process exits with code 0.
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

server.listen(port, () => {
  // First line of output, for whoever started us with PORT=0.
  console.log(`listening on port ${(server.address() as AddressInfo).port}`);
});
