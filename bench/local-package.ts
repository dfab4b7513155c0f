/**
 * Benchmark: the local runner for users' apps (`cdk-stepfunctions-redshift-local`, its public API and CLI).
 *
 * - `run` → outcome for a one-state machine (a `RedshiftSqlTask` inserting a row) of a small app: cold (the CLI in a
 *   fresh process: start everything, create the custom resource, run, stop — the built package's CLI when
 *   `npx projen package:local` built it, else the sources through tsx) and warm (another `run` on a started
 *   `LocalApp`);
 * - the same for the example app's longest machine (the chained machine: the six example machines one after the
 *   other as nested executions), cold (first run after start) and warm (second run);
 * - start + stop of the programmatic API as a test suite does it (`LocalApp.start` with the custom resource, `stop`);
 * - memory: the process's resident set after the runs, and the function environments (separate processes) it ran.
 * Figures, not pass/fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { median, round } from './stats';
import { ChainedMachine } from '../example/machines';
import { PROJECT_ROOT as ROOT } from '../local/bundles';
import { ensureBundles, synthesizeExample } from '../local/example';
import { LocalApp } from '../local/index';
import { RedshiftSql, RedshiftSqlTask, SfnRedshiftTasker } from '../src';

export interface LocalPackageResult {
  /** One-state machine: the CLI in a fresh process, spawn → exit (the outcome printed; median), ms. */
  readonly oneStateColdCliMs: number;
  /** Which CLI ran: the built package or the sources. */
  readonly cli: 'package' | 'sources';
  /** One-state machine: `run` → outcome on a started `LocalApp` (median), ms. */
  readonly oneStateWarmMs: number;
  /** `LocalApp.start` (with the custom resource) and `stop` (medians), ms. */
  readonly startMs: number;
  readonly stopMs: number;
  /** The example app's chained machine: first run after start, and a second run, ms. */
  readonly longestColdMs: number;
  readonly longestWarmMs: number;
  /** Resident set of the process after the runs, MB; function environments started (cold starts). */
  readonly rssMb: number;
  readonly functionEnvironments: number;
  /** The machine's 1-minute load average when the measurement began (the figures grow with it). */
  readonly loadAverage: number;
}

/** A one-state app of a user's kind: a table created by `RedshiftSql`, one `RedshiftSqlTask`. */
function oneStateApp(outdir: string): void {
  const app = new App({ outdir, context: { 'aws:cdk:disable-version-reporting': true } });
  const stack = new Stack(app, 'BenchStack');
  const tasker = new SfnRedshiftTasker(stack, 'Tasker', { redshiftTargetProps: { workgroupName: 'bench', dbName: 'bench' } });
  const table = new RedshiftSql(stack, 'Events', { tasker, onCreate: ['create table events (id int)'], onDelete: ['drop table events'] });
  const insert = RedshiftSqlTask.jsonPath(stack, 'Insert', { tasker, sql: 'insert into events values (1)' });
  new sfn.StateMachine(stack, 'One', { definitionBody: sfn.DefinitionBody.fromChainable(insert) }).node.addDependency(table);
  app.synth();
}

export async function measureLocalPackage(repeats = 3): Promise<LocalPackageResult> {
  ensureBundles();
  const loadAverage = round(loadavg()[0], 1);
  const dir = mkdtempSync(join(tmpdir(), 'bench-local-package-'));
  try {
    const assembly = join(dir, 'cdk.out');
    oneStateApp(assembly);
    const built = join(ROOT, 'packages', 'local', 'lib', 'local', 'cli.js');
    const cli = existsSync(built) ? 'package' : 'sources';
    const command = cli === 'package' ? [built] : ['--import', 'tsx', join(ROOT, 'local', 'cli.ts')];
    const cold: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const child = spawnSync(process.execPath, [...command, 'run', '--app', assembly, '--state-machine', 'One', '--quiet'], { cwd: dir, encoding: 'utf8' });
      cold.push(performance.now() - t0);
      if (child.status !== 0) throw new Error(`the CLI run failed (exit ${child.status}): ${child.stdout}${child.stderr}`);
    }
    const oneStateColdCliMs = round(median(cold), 0);

    const starts: number[] = [];
    const stops: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const s0 = performance.now();
      const local = await LocalApp.start({ app: assembly });
      starts.push(performance.now() - s0);
      try {
        for (let j = 0; j < 3; j++) {
          const result = await local.run('One', {});
          if (result.status !== 'SUCCEEDED') throw new Error(`the one-state machine ended ${result.status}: ${result.cause}`);
          if (j > 0) warm.push(result.durationMs);
        }
      } finally {
        const p0 = performance.now();
        await local.stop();
        stops.push(performance.now() - p0);
      }
    }

    const example = synthesizeExample();
    let longestColdMs = 0;
    let longestWarmMs = 0;
    let rssMb = 0;
    let functionEnvironments = 0;
    try {
      const local = await LocalApp.start({ app: example.directory, stack: example.artifactId });
      try {
        const chain = example.machineLogicalIds[ChainedMachine.ID];
        const first = await local.run(chain, {});
        const second = await local.run(chain, {});
        if (first.status !== 'SUCCEEDED' || second.status !== 'SUCCEEDED') throw new Error(`the chained machine ended ${first.status}/${second.status}`);
        longestColdMs = round(first.durationMs, 0);
        longestWarmMs = round(second.durationMs, 0);
        rssMb = round(process.memoryUsage().rss / 2 ** 20, 0);
        functionEnvironments = local.cloud.lambda.all().reduce((n, fn) => n + fn.coldStarts, 0);
      } finally {
        await local.stop();
      }
    } finally {
      example.dispose();
    }
    return {
      loadAverage,
      oneStateColdCliMs,
      cli,
      oneStateWarmMs: round(median(warm), 0),
      startMs: round(median(starts), 0),
      stopMs: round(median(stops), 0),
      longestColdMs,
      longestWarmMs,
      rssMb,
      functionEnvironments,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
