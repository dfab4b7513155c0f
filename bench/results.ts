/** What `npm run bench` measures, as written to `benchmarks.json` and rendered by `report.ts`. */
import type { LifecycleCalls } from './calls';
import type { ColdStartResult } from './cold-start';
import type { CostResult } from './cost';
import type { DemoResult } from './demo';
import type { FastPathResult } from './fast-path';
import type { EndToEndLatencyResult, LatencyResult } from './latency';
import type { LocalPackageResult } from './local-package';
import type { Machine } from './machine';
import type { ResultsExportResult } from './results-export';
import type { SessionsResult } from './sessions';
import type { SynthRun } from './synth';
import type { ThroughputResult } from './throughput';

export interface BenchResults {
  readonly machine: Machine;
  readonly settings: Record<string, unknown>;
  readonly calls?: LifecycleCalls[];
  readonly coldStart?: ColdStartResult;
  readonly throughput?: ThroughputResult;
  readonly synth?: SynthRun[];
  readonly latency?: LatencyResult;
  readonly endToEndLatency?: EndToEndLatencyResult;
  readonly fastPath?: FastPathResult;
  readonly demo?: DemoResult;
  readonly localPackage?: LocalPackageResult;
  readonly sessions?: SessionsResult;
  readonly cost?: CostResult;
  readonly resultsExport?: ResultsExportResult;
}
