/**
 * The realistic scenarios' records: JSON order events of about 1 KiB, keyed by customer,
 * with fields that vary the way real ones do (ids, names, addresses, items, prices, user
 * agents, free text), all drawn from a seeded generator. bench/run.ts writes a pool of them
 * to a file once (writeRecordsFile) and every runner, Node or Go, reads that file
 * (readRecordsFile, bench/clients/go/child ReadRecordsFile) and sends record i % pool
 * size: every client sends exactly the same bytes. Batches of them compress 3-5x with lz4
 * and zstd, not the 100x of the constant `--record-size` payload.
 *
 * File format: for each record, a 4-byte big-endian key length, the key, a 4-byte
 * big-endian value length, the value; nothing else.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** mulberry32: small, fast, and the same numbers everywhere for a seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Anna', 'Ben', 'Chloe', 'David', 'Elif', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mateo', 'Nora', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tara', 'Uma', 'Viktor', 'Wen', 'Yara', 'Zoe'];
const LAST = ['Meyer', 'Okafor', 'Rossi', 'Nguyen', 'Schmidt', 'Garcia', 'Kowalski', 'Tanaka', 'Dubois', 'Silva', 'Novak', 'Haddad', 'Larsen', 'Murphy', 'Yilmaz', 'Fischer', 'Costa', 'Ivanova', 'Jensen', 'Moreau'];
const DOMAINS = ['example.com', 'mail.example.org', 'post.example.net', 'inbox.example.de', 'example.co.uk'];
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'NL', 'ES', 'IT', 'PL', 'SE', 'JP', 'BR', 'IN', 'CA', 'AU', 'TR'];
const CITIES = ['Berlin', 'Hamburg', 'Munich', 'Leipzig', 'Austin', 'Portland', 'Lyon', 'Leeds', 'Utrecht', 'Sevilla', 'Turin', 'Gdansk', 'Malmo', 'Osaka', 'Recife', 'Pune', 'Calgary', 'Perth', 'Izmir'];
const STREETS = ['Linden', 'Harbor', 'Maple', 'Station', 'Mill', 'Church', 'Garden', 'River', 'Market', 'Bridge', 'Castle', 'Forest', 'Park', 'Spring', 'Hill'];
const STREET_KINDS = ['Street', 'Avenue', 'Road', 'Lane', 'Way', 'Strasse', 'Platz'];
const ADJECTIVES = ['organic', 'wireless', 'compact', 'vintage', 'ergonomic', 'stainless', 'recycled', 'portable', 'handmade', 'waterproof', 'smart', 'classic', 'premium', 'foldable'];
const NOUNS = ['kettle', 'headphones', 'backpack', 'lamp', 'notebook', 'chair', 'bottle', 'jacket', 'keyboard', 'blender', 'tent', 'watch', 'speaker', 'mug', 'scarf', 'charger'];
const TAGS = ['sale', 'new', 'gift', 'eco', 'bestseller', 'bundle', 'clearance', 'limited', 'imported', 'local'];
const EVENTS = ['order_placed', 'order_paid', 'order_shipped', 'order_delivered', 'order_cancelled', 'refund_issued'];
const TIERS = ['none', 'bronze', 'silver', 'gold', 'platinum'];
const METHODS = ['standard', 'express', 'pickup', 'same_day'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'SEK'];
const PAYMENTS = ['card', 'paypal', 'invoice', 'bank_transfer', 'apple_pay'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0',
];
const WORDS = (
  'please leave the parcel at the back door ring twice gift wrap without invoice call before delivery ' +
  'fragile handle with care second floor no elevator office hours only weekend delivery preferred ' +
  'reuse packaging if possible customer asked for eco shipping contact by email not phone'
).split(' ');

/** The realistic pool: `count` records (keys: one of `keys` customer ids). */
export function realisticRecords(seed: number, count: number, keys: number): Array<{ key: Buffer; value: Buffer }> {
  const random = generator(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const hex = (digits: number): string => {
    let s = '';
    for (let i = 0; i < digits; i++) s += '0123456789abcdef'[int(16)];
    return s;
  };
  const money = (max: number): number => Math.round(random() * max * 100) / 100;
  let time = Date.UTC(2026, 10, 1);
  const records: Array<{ key: Buffer; value: Buffer }> = [];
  for (let r = 0; r < count; r++) {
    time += int(2000);
    const customer = int(keys);
    const first = pick(FIRST);
    const last = pick(LAST);
    const items = Array.from({ length: 1 + int(4) }, () => ({
      sku: `SKU-${String(int(100000)).padStart(5, '0')}`,
      name: `${pick(ADJECTIVES)} ${pick(NOUNS)}`,
      qty: 1 + int(5),
      unitPrice: money(250),
      tags: Array.from({ length: int(3) }, () => pick(TAGS)),
    }));
    const event = {
      event: pick(EVENTS),
      eventId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      occurredAt: new Date(time).toISOString(),
      orderId: `ORD-${2026000000 + int(1000000)}`,
      customer: {
        id: `C${String(customer).padStart(7, '0')}`,
        name: `${first} ${last}`,
        email: `${first.toLowerCase()}.${last.toLowerCase()}${int(100)}@${pick(DOMAINS)}`,
        tier: pick(TIERS),
        country: pick(COUNTRIES),
      },
      items,
      total: Math.round(items.reduce((sum, item) => sum + item.qty * item.unitPrice, 0) * 100) / 100,
      currency: pick(CURRENCIES),
      shipping: {
        method: pick(METHODS),
        address: { street: `${1 + int(200)} ${pick(STREETS)} ${pick(STREET_KINDS)}`, city: pick(CITIES), zip: String(int(100000)).padStart(5, '0') },
      },
      session: { userAgent: pick(AGENTS), ip: `10.${int(256)}.${int(256)}.${int(256)}`, referrer: `https://shop.example.com/c/${pick(NOUNS)}?p=${int(50)}` },
      payment: { method: pick(PAYMENTS), status: pick(['authorized', 'captured', 'pending']), provider: pick(['stripe', 'adyen', 'paypal', 'klarna']), attempts: 1 + int(2) },
      flags: { giftWrap: random() < 0.1, newsletter: random() < 0.4, firstOrder: random() < 0.2, expressCheckout: random() < 0.3 },
      channel: pick(['web', 'ios', 'android', 'store']),
      source: 'checkout-service',
      schemaVersion: 3,
      notes: Array.from({ length: int(20) }, () => pick(WORDS)).join(' '),
    };
    records.push({ key: Buffer.from(event.customer.id), value: Buffer.from(JSON.stringify(event)) });
  }
  return records;
}

export function writeRecordsFile(file: string, records: ReadonlyArray<{ key: Buffer; value: Buffer }>): void {
  const parts: Buffer[] = [];
  for (const { key, value } of records) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(key.length);
    const mid = Buffer.alloc(4);
    mid.writeUInt32BE(value.length);
    parts.push(head, key, mid, value);
  }
  writeFileSync(file, Buffer.concat(parts));
}

export function readRecordsFile(file: string): { keys: Buffer[]; values: Buffer[] } {
  const bytes = readFileSync(file);
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const keyLength = bytes.readUInt32BE(at);
    keys.push(bytes.subarray(at + 4, at + 4 + keyLength));
    at += 4 + keyLength;
    const valueLength = bytes.readUInt32BE(at);
    values.push(bytes.subarray(at + 4, at + 4 + valueLength));
    at += 4 + valueLength;
  }
  return { keys, values };
}
