/**
 * Measured results of the reliability scenarios, written to `.bench/reliability/<suite>.json` when a suite ends;
 * `bench/reliability-report.ts` turns them into `docs/reliability.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT as ROOT } from '../../../local/bundles';

export interface ScenarioResult {
  /** What happens (the injected fault or input). */
  readonly scenario: string;
  /** The outcome the suite asserts. */
  readonly expected: string;
  /** What was counted. */
  readonly measured: Record<string, number | string | boolean>;
}

export class ResultLog {
  private readonly results: ScenarioResult[] = [];
  private readonly started = Date.now();

  constructor(private readonly suite: string, private readonly title: string) {}

  add(result: ScenarioResult): void {
    this.results.push(result);
  }

  write(): void {
    const dir = join(ROOT, '.bench', 'reliability');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.suite}.json`), `${JSON.stringify({
      suite: this.suite, title: this.title, seconds: Math.round((Date.now() - this.started) / 100) / 10, results: this.results,
    }, null, 2)}\n`);
  }
}
