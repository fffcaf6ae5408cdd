import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The arrays on the append path must keep one hidden class from their creation on (see
 * src/producer/arrays.ts): checked with V8's own predicates, which need a process of
 * their own started with --allow-natives-syntax.
 */
const ARRAYS = fileURLToPath(new URL('../../../src/producer/arrays.ts', import.meta.url));

function v8Checks(body: string): unknown {
  const script = `
    const { objectArray, numberArray } = await import(${JSON.stringify(ARRAYS)});
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  const stdout = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

describe('arrays of a fixed elements kind', () => {
  it('objectArray holds objects from the start, and keeps its hidden class when given objects, functions or undefined', () => {
    const out = v8Checks(`
      const a = objectArray(), b = objectArray();
      out.objects = %HasObjectElements(a);
      out.sameAsFresh = %HaveSameMap(a, b);
      a.push({}); a.push(() => {}); a.push(undefined); a.pop();
      out.sameAfterPushes = %HaveSameMap(a, b);
      out.empty = b.length === 0;
      const literal = []; out.literalIsSmi = %HasSmiElements(literal);
    `);
    expect(out).toEqual({ objects: true, sameAsFresh: true, sameAfterPushes: true, empty: true, literalIsSmi: true });
  });

  it('numberArray holds doubles from the start, and keeps its hidden class when given integers, timestamps and Infinity', () => {
    const out = v8Checks(`
      const a = numberArray(), b = numberArray();
      out.doubles = %HasDoubleElements(a);
      a.push(3); a.push(Date.now() + 0.5); a.push(Infinity);
      out.sameAfterPushes = %HaveSameMap(a, b);
      out.empty = b.length === 0;
    `);
    expect(out).toEqual({ doubles: true, sameAfterPushes: true, empty: true });
  });
});
