/**
 * One synthesis for benchmark 4, run in a fresh process: an app with N taskers in one stack — the first one with the
 * callback infrastructure, the others sharing its tracking table (`createCallbackInfra: false`), each on its own
 * cluster and database. Prints one JSON line: synthesis time, template size, resource counts and Lambda code assets.
 *
 * Usage: tsx bench/synth-app.ts <taskers>
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const importStarted = performance.now();
/* eslint-disable @typescript-eslint/no-require-imports */
const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
const { SfnRedshiftTasker } = require('../src') as typeof import('../src');
/* eslint-enable @typescript-eslint/no-require-imports */
const importMs = performance.now() - importStarted;

const taskers = Number(process.argv[2]);
const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
try {
  const started = performance.now();
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'BenchStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const first = new SfnRedshiftTasker(stack, 'Tasker0', {
    redshiftTargetProps: { clusterIdentifier: 'cluster-0', dbName: 'db0', dbUser: 'etl' },
  });
  for (let i = 1; i < taskers; i++) {
    new SfnRedshiftTasker(stack, `Tasker${i}`, {
      redshiftTargetProps: { clusterIdentifier: `cluster-${i}`, dbName: `db${i}`, dbUser: 'etl' },
      createCallbackInfra: false,
      existingTableObj: first.trackingTable,
    });
  }
  const assembly = app.synth();
  const synthMs = performance.now() - started;

  const artifact = assembly.getStackByName('BenchStack');
  const templatePath = join(outdir, artifact.templateFile);
  const template = JSON.parse(readFileSync(templatePath, 'utf8'));
  const resources = Object.values(template.Resources) as Array<{ Type: string; Properties?: any }>;
  const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
  const codeKeys = new Set(functions.map((f) => JSON.stringify(f.Properties?.Code?.S3Key)));
  const assetDirs = readdirSync(outdir).filter((name) => name.startsWith('asset.') && statSync(join(outdir, name)).isDirectory());
  process.stdout.write(JSON.stringify({
    taskers,
    importMs,
    synthMs,
    templateBytes: statSync(templatePath).size,
    resources: resources.length,
    lambdaFunctions: functions.length,
    lambdaCodeAssets: codeKeys.size,
    assetDirectories: assetDirs.length,
  }));
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
