/**
 * Builds the franz-go client of the proxy's client test (scripts/proxy-clients/franz/)
 * into .cache/proxy-clients/franz with the Go toolchain (scripts/go-build.ts), when a
 * source is newer than the binary.
 */
import path from 'node:path';
import { ensureGoBinary, hasGo } from '../go-build.js';
import { CACHE_DIR, REPO_ROOT } from '../kafka/paths.js';

const SOURCE_DIR = path.join(REPO_ROOT, 'scripts', 'proxy-clients', 'franz');
export const FRANZ_CLIENT_BINARY = path.join(CACHE_DIR, 'proxy-clients', 'franz');

export { hasGo };

export function ensureFranzClient(): Promise<string> {
  return ensureGoBinary(SOURCE_DIR, FRANZ_CLIENT_BINARY);
}
