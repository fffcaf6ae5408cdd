/**
 * produce()'s callback types, held by the type check (`npm run typecheck` covers tests):
 * after `if (err)`, TypeScript knows the metadata is there; callbacks written against the
 * older, wider signature (or with fewer parameters) still fit.
 */
import { describe, expect, it } from 'vitest';
import type { DeliveryCallback, Producer, RecordMetadata } from '../../../src/index.js';

// Never called: only compiled.
function typed(p: Producer): void {
  p.produce({ topic: 't', value: 'v' }, (err, meta) => {
    if (err) return void err.message;
    void meta.offset; // narrowed: no `!` needed
  });
  p.produce({ topic: 't', value: 'v' }, (err, meta) => {
    // @ts-expect-error without checking err first, meta may be null
    void meta.offset;
    void err;
  });
  p.produce({ topic: 't', value: 'v' }, (err) => void err?.message);
  p.produce({ topic: 't', value: 'v' }, (err: Error | null, meta: RecordMetadata | null) => void [err, meta?.offset]);
  const wide: DeliveryCallback = (err, meta) => void [err, meta];
  p.produce({ topic: 't', value: 'v' }, wide);
  p.produce({ topic: 't', value: 'v' }, () => undefined);
  p.produce({ topic: 't', value: 'v' });
}

describe('delivery callback types', () => {
  it('compile as the comments say (checked by tsc, not at run time)', () => {
    expect(typeof typed).toBe('function');
  });
});
