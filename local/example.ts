/**
 * The example app, synthesized for the local run: builds the handler bundles when they are missing or older than
 * their sources, synthesizes `src/integ.default.ts` offline into a cloud assembly, and returns its template and
 * asset directories.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { assetDirectories, CfnTemplate, LocalTemplate } from './cloudformation/template';
import { IntegTesting } from '../src/integ.default';

const ROOT = join(__dirname, '..');

/** Region and account the local run uses (nothing reaches AWS; they only appear in ARNs). */
export const LOCAL_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/** The bundles the example app deploys (built by `npx projen bundle:lambda`). */
export const EXAMPLE_BUNDLES = ['handler', 'cfn-create-drop', 'cfn-manage-user'] as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the Lambda bundles if any is missing or older than `lambda/` or `src/contract.ts`; returns whether it did. */
export function ensureBundles(log: (line: string) => void = () => undefined): boolean {
  const sources = Math.max(newestSource(join(ROOT, 'lambda')), statSync(join(ROOT, 'src', 'contract.ts')).mtimeMs);
  const stale = EXAMPLE_BUNDLES.some((name) => {
    const file = join(ROOT, 'assets', name, 'index.js');
    return !existsSync(file) || statSync(file).mtimeMs < sources;
  });
  if (!stale) return false;
  log('Building the Lambda bundles (npx projen bundle:lambda)…');
  execFileSync('npx', ['projen', 'bundle:lambda'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}

export interface SynthesizedExample {
  readonly template: LocalTemplate;
  readonly assets: Map<string, string>;
  /** The example app's parts (construct ids of machines and custom resources). */
  readonly app: IntegTesting;
  /** Logical id of each example state machine, by construct id. */
  readonly machineLogicalIds: Record<string, string>;
  /** Removes the cloud assembly directory. */
  dispose(): void;
}

/** Synthesizes the example app offline into a temporary cloud assembly. */
export function synthesizeExample(): SynthesizedExample {
  const outdir = mkdtempSync(join(tmpdir(), 'local-example-cdk-out-'));
  const app = new App({ outdir, context: { 'aws:cdk:disable-version-reporting': true } });
  const example = new IntegTesting({ app, env: LOCAL_ENV });
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(example.stack.artifactId);
  const assetManifest = artifact.dependencies.find((d) => d.id.endsWith('.assets'));
  const assets = assetManifest ? assetDirectories(outdir, `${assetManifest.id}.json`) : new Map<string, string>();
  const template = new LocalTemplate(artifact.template as CfnTemplate, {
    region: LOCAL_ENV.region,
    accountId: LOCAL_ENV.account,
    stackName: artifact.stackName,
  });
  const machineLogicalIds = Object.fromEntries(Object.entries(example.stateMachines).map(([id, machine]) => [
    id, example.stack.getLogicalId(machine.node.defaultChild as never),
  ]));
  return { template, assets, app: example, machineLogicalIds, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}
