/**
 * A stack of taskers synthesized offline and run on the local stand-ins (`LocalCloud`): the template's functions,
 * rules, queues and event source mappings, as deployed — for scenarios that depend on how taskers are wired together.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { LocalCloud } from '../../../local/cloud';
import { assetDirectories, CfnTemplate, LocalTemplate } from '../../../local/cloudformation/template';
import { ensureBundles, LOCAL_ENV } from '../../../local/example';
import { SfnRedshiftTasker } from '../../../src';

export interface LocalTopology {
  readonly cloud: LocalCloud;
  /** The local function name of each tasker's starter function, by construct id. */
  readonly starters: Record<string, string>;
  close(): Promise<void>;
}

/** Synthesizes the taskers `build` creates and starts them locally. */
export async function startTopology(build: (stack: Stack) => Record<string, SfnRedshiftTasker>): Promise<LocalTopology> {
  ensureBundles();
  const outdir = mkdtempSync(join(tmpdir(), 'reliability-topology-cdk-out-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:disable-version-reporting': true } });
    const stack = new Stack(app, 'Topology', { env: LOCAL_ENV });
    const taskers = build(stack);
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(stack.artifactId);
    const manifest = artifact.dependencies.find((d) => d.id.endsWith('.assets'));
    const assets = manifest ? assetDirectories(outdir, `${manifest.id}.json`) : new Map<string, string>();
    const template = new LocalTemplate(artifact.template as CfnTemplate, {
      region: LOCAL_ENV.region, accountId: LOCAL_ENV.account, stackName: artifact.stackName,
    });
    const cloud = await LocalCloud.start({ template, assets });
    const starters = Object.fromEntries(Object.entries(taskers).map(([id, tasker]) => [
      id, template.ref(stack.getLogicalId(tasker.lambdaFunction.node.defaultChild as never)),
    ]));
    return {
      cloud,
      starters,
      async close() {
        await cloud.close();
        rmSync(outdir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
