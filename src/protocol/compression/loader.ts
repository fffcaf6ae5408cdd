import type { CompressionName } from './codecs.js';
import { MissingCodecError } from './errors.js';

/**
 * Loads a package by name the way `import()` does. The codecs take one as a parameter so
 * that a test can stand in for a package that is absent or broken without uninstalling it.
 */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

// The specifier is a variable on purpose: with a string literal TypeScript would demand the
// optional package's type declarations at build time, and bundlers would try to inline it.
export const importModule: ModuleImporter = (specifier) => import(specifier);

/** An npm package that provides one codec, and how to get at the functions we call. */
export interface OptionalPackage<Api> {
  readonly codec: CompressionName;
  readonly packageName: string;
  /** What a user should run to install a version we work with. */
  readonly installCommand: string;
  /**
   * Picks the functions we call out of the module's exports, or returns undefined when
   * they are not there (a major version with another API).
   */
  readonly bind: (exports: Record<string, unknown>) => Api | undefined;
}

/**
 * Imports each optional package on first use and keeps the result, failure included: a
 * package that is missing now will be missing on the next batch too, and retrying the
 * import on every call would make every compress pay for a filesystem search.
 */
export class OptionalPackages {
  readonly #importModule: ModuleImporter;
  readonly #loaded = new Map<OptionalPackage<unknown>, Promise<unknown>>();
  /** The packages whose import succeeded, for callers that cannot wait (see `ready`). */
  readonly #ready = new Map<OptionalPackage<unknown>, unknown>();

  constructor(importer: ModuleImporter = importModule) {
    this.#importModule = importer;
  }

  load<Api>(pkg: OptionalPackage<Api>): Promise<Api> {
    let pending = this.#loaded.get(pkg);
    if (pending === undefined) {
      pending = this.#import(pkg);
      // Rejections are handled by whoever awaits load(); this keeps a failure that nobody
      // is waiting on yet from being reported as unhandled.
      pending.then(
        (api) => this.#ready.set(pkg, api),
        () => {},
      );
      this.#loaded.set(pkg, pending);
    }
    return pending as Promise<Api>;
  }

  /** The package's API if an earlier load() has finished importing it; undefined until then. */
  ready<Api>(pkg: OptionalPackage<Api>): Api | undefined {
    return this.#ready.get(pkg) as Api | undefined;
  }

  /** Whether the package loads and has the API we need; never throws. */
  async isAvailable(pkg: OptionalPackage<unknown>): Promise<boolean> {
    return this.load(pkg).then(
      () => true,
      () => false,
    );
  }

  async #import<Api>(pkg: OptionalPackage<Api>): Promise<Api> {
    let namespace: unknown;
    try {
      namespace = await this.#importModule(pkg.packageName);
    } catch (cause) {
      const detail = isNotInstalled(cause, pkg.packageName) ? undefined : `it is installed but failed to load: ${messageOf(cause)}`;
      throw new MissingCodecError(pkg.codec, pkg.packageName, pkg.installCommand, detail === undefined ? { cause } : { cause, detail });
    }
    // A CommonJS package imported from ESM shows its exports both as named exports (when
    // Node's static analysis finds them) and as `default`; accept either.
    for (const exports of [namespace, (namespace as { default?: unknown } | null)?.default]) {
      if (typeof exports !== 'object' || exports === null) continue;
      const api = pkg.bind(exports as Record<string, unknown>);
      if (api !== undefined) return api;
    }
    throw new MissingCodecError(pkg.codec, pkg.packageName, pkg.installCommand, {
      detail: 'the installed version does not export the functions kafka-wire calls',
    });
  }
}

/** The package itself is absent, as opposed to present but failing (e.g. its native binary). */
function isNotInstalled(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && messageOf(error).includes(`'${packageName}'`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Narrows an export to a function, so `bind` implementations stay one-liners. */
export function fn<F extends (...args: never[]) => unknown>(value: unknown): F | undefined {
  return typeof value === 'function' ? (value as F) : undefined;
}
