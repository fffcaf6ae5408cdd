/**
 * The generated definitions of every Kafka API are for the decode tool and the proxy: the
 * producer's entry points must not load them (their import cost stays what it was). This
 * follows the static, runtime imports (not `import type`) of each entry point.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'(\.[^']+)'/gms)) {
    if (m[1]) continue;
    out.push(path.resolve(path.dirname(file), m[2]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [path.join(SRC, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...runtimeImports(file));
  }
  return new Set([...seen].map((f) => path.relative(SRC, f)));
}

const generatedOrRegistry = (files: Set<string>): string[] =>
  [...files].filter((f) => f === path.join('protocol', 'registry.ts') || f.startsWith(path.join('protocol', 'generated') + path.sep));

describe('the generated API definitions', () => {
  it.each(['index.ts', 'wire.ts', 'kafkajs/index.ts'])('are not loaded by %s', (entry) => {
    const files = loadedBy(entry);
    expect(files.has(path.join('producer', 'producer.ts')) || entry !== 'index.ts').toBe(true);
    expect(generatedOrRegistry(files)).toEqual([]);
  });

  it('are loaded by kafka-wire/decode', () => {
    expect(generatedOrRegistry(loadedBy('decode.ts'))).toContain(path.join('protocol', 'generated', 'produce.ts'));
  });
});
