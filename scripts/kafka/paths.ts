import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, derived from this file so the harness works from any cwd. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Git-ignored scratch space for jars, cluster runs and broker state. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache');

export const KAFKA_POM = path.join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml');

export function kafkaDistDir(version: string): string {
  return path.join(CACHE_DIR, 'kafka', version);
}
