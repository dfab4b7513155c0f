/**
 * Benchmark 4: synthesis at scale. Apps with 1, 10 and 50 taskers (see `synth-app.ts`), each synthesised in a fresh
 * process several times: median synthesis time, template size, resources, Lambda functions and code assets (all
 * taskers share one asset: the bundled handler is uploaded once).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, round } from './stats';
import { PROJECT_ROOT as ROOT } from '../local/bundles';

export interface SynthRun {
  readonly taskers: number;
  /** Median time of `new App()` … `app.synth()`, ms. */
  readonly synthMs: number;
  /** Median wall time of the whole process (Node.js, TypeScript loader, imports, synthesis), ms. */
  readonly processMs: number;
  readonly templateBytes: number;
  readonly resources: number;
  readonly lambdaFunctions: number;
  readonly lambdaCodeAssets: number;
}

export function measureSynth(taskerCounts: readonly number[] = [1, 10, 50], repeats = 3): SynthRun[] {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  return taskerCounts.map((taskers) => {
    const samples = Array.from({ length: repeats }, () => {
      const started = performance.now();
      const out = execFileSync(tsx, [join(__dirname, 'synth-app.ts'), String(taskers)], {
        cwd: ROOT,
        env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
        encoding: 'utf8',
      });
      return { ...JSON.parse(out), processMs: performance.now() - started };
    });
    const last = samples[samples.length - 1];
    return {
      taskers,
      synthMs: round(median(samples.map((s) => s.synthMs)), 0),
      processMs: round(median(samples.map((s) => s.processMs)), 0),
      templateBytes: last.templateBytes,
      resources: last.resources,
      lambdaFunctions: last.lambdaFunctions,
      lambdaCodeAssets: last.lambdaCodeAssets,
    };
  });
}

if (require.main === module) {
  console.log(JSON.stringify(measureSynth(), null, 2));
}
