/** What the CLI writes, captured per test: stdout and stderr as strings. */
import { afterEach, beforeEach, vi } from 'vitest';

export interface Captured {
  stdout: string;
  stderr: string;
}

/** Captures process.stdout/stderr writes around each test of the calling file. */
export function captureCliOutput(): Captured {
  const out: Captured = { stdout: '', stderr: '' };
  beforeEach(() => {
    out.stdout = '';
    out.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return out;
}
