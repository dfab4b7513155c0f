/**
 * The example app, synthesized for the local run: builds the handler bundles when they are missing or older than
 * their sources, synthesizes `src/integ.default.ts` offline into a cloud assembly, and returns its template and
 * asset directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { assetDirectories, CfnTemplate, LocalTemplate } from './cloudformation/template';
import { ExampleTiming } from '../example/machines';
import { IntegTesting } from '../example/stack';


/**
 * The local run's durations: the machines behave the same with shorter slow statements, budgets and waits, and the
 * chain of eight machines, which runs them one after the other, takes seconds instead of a minute. The singleton and
 * the polled statement keep different SQL texts.
 */
export const LOCAL_TIMING: ExampleTiming = {
  cancelAfterSeconds: 3,
  cancelCheckIntervalSeconds: 1,
  polledStatementSeconds: 3,
  pollIntervalSeconds: 1,
  // Long enough for all 10 branches to try while it runs, even when their function environments start cold.
  singletonStatementSeconds: 8,
};

/** Region and account the local run uses (nothing reaches AWS; they only appear in ARNs). */
export const LOCAL_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export { ensureBundles } from './bundles';

export interface SynthesizedExample {
  readonly template: LocalTemplate;
  readonly assets: Map<string, string>;
  /** The example app's parts (construct ids of machines and custom resources). */
  readonly app: IntegTesting;
  /** Logical id of each example state machine, by construct id. */
  readonly machineLogicalIds: Record<string, string>;
  /** The cloud assembly directory. */
  readonly directory: string;
  /** The example stack's artifact id in the cloud assembly. */
  readonly artifactId: string;
  /** Removes the cloud assembly directory. */
  dispose(): void;
}

/** Synthesizes the example app offline into a temporary cloud assembly. */
export function synthesizeExample(): SynthesizedExample {
  const outdir = mkdtempSync(join(tmpdir(), 'local-example-cdk-out-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:disable-version-reporting': true } });
    const example = new IntegTesting({ app, env: LOCAL_ENV, timing: LOCAL_TIMING });
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
    return {
      template,
      assets,
      app: example,
      machineLogicalIds,
      directory: outdir,
      artifactId: artifact.id,
      dispose: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
