import type { LatencySummary } from './protocol.js';

/** Latency samples in milliseconds, in a preallocated typed array so recording allocates nothing. */
export class LatencyRecorder {
  private samples: Float64Array;
  private count = 0;

  constructor(
    readonly kind: LatencySummary['kind'],
    capacity: number,
  ) {
    this.samples = new Float64Array(Math.max(16, capacity));
  }

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.count++] = ms;
  }

  summary(recordsPerSample: number): LatencySummary {
    const sorted = this.samples.slice(0, this.count).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      kind: this.kind,
      samples: this.count,
      recordsPerSample,
      avgMs: round(this.count ? sum / this.count : Number.NaN),
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      p999Ms: round(percentile(sorted, 99.9)),
      maxMs: round(sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN),
    };
  }
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
