/**
 * The produce-path conformance suite as a library: what `kafka-wire conformance` runs.
 * `runConformance({ bootstrap })` checks a cluster and reports; `runSuite` with a
 * `Session` gives the results alone.
 */
export { conformanceCommand, runConformance, type ConformanceOptions } from './command.js';
export { loadExpected, recordRelease, type ExpectedData } from './expected.js';
export { formatDetails, progressLine, summaryTable, toJsonReport, toJUnit } from './report.js';
export { ALL_CATEGORIES, runSuite, type RunOptions, type SuiteReport } from './runner.js';
export { Session, type SessionOptions } from './session.js';
export { CATEGORIES, type CategoryName, type CheckResult, type Json, type Status } from './types.js';
