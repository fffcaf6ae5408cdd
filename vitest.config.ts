import { defineConfig } from 'vitest/config';

/** Unit tests need no broker; keeping them in their own project means they never start one. */
const UNIT_TESTS = ['test/protocol/**/*.test.ts', 'test/net/**/*.test.ts', 'test/decode/**/*.test.ts', 'test/producer/partitioners/**/*.test.ts', 'test/producer/unit/**/*.test.ts', 'test/security/unit/**/*.test.ts', 'test/cli/help.test.ts', 'test/cli/decode-input.test.ts', 'test/cli/cli-wording.test.ts', 'test/package/**/*.test.ts', 'test/conformance/suite/**/*.unit.test.ts', 'test/proxy/**/*.unit.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Global teardown stops the clusters gracefully, which takes several
    // seconds; past this vitest exits anyway and the JVMs are SIGKILLed.
    teardownTimeout: 60_000,
    pool: 'forks',
    // Two cores: more parallel files only make the JVMs and tests fight for CPU.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './test/helpers/run-outcome.ts'],
    // Project settings are merged into these, and arrays concatenate, so
    // `include` lives only in the projects (together: test/**/*.test.ts).
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT_TESTS },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: ['test/**/*.test.ts'],
          exclude: UNIT_TESTS,
          // Global setups run only for projects that have files in the run,
          // so `vitest run test/protocol` starts no JVM.
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
