/**
 * A synthesized CDK app as the local run reads it: the cloud assembly directory (`cdk.out`) or an `App`/`Stack`
 * object synthesized on the spot, one of its stacks, its template, the directories of its file assets, and its
 * state machines by logical id, construct path and name.
 */
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { assetDirectories, CfnTemplate, LocalTemplate } from './cloudformation/template';

/** Region and account of a stack whose environment is not set (they only appear in ARNs). */
export const DEFAULT_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/** An `App` (or any `Stage`) of aws-cdk-lib: what the local run needs of it. */
export interface AppLike {
  synth(): { readonly directory: string };
}

/** A `Stack` of aws-cdk-lib: what the local run needs of it. */
export interface StackLike {
  readonly artifactId: string;
  readonly node: { readonly root: unknown };
}

/** Where the app comes from: a cloud assembly directory, an `App`, or one `Stack` of an app. */
export type AppSource = string | AppLike | StackLike;

/** Thrown when the app or a name in it cannot be used: the message names the value and the choices. */
export class LocalAppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalAppError';
  }
}

/** A state machine of the stack. */
export interface MachineInfo {
  readonly logicalId: string;
  /** Construct path (`MyStack/Orders/Resource`), when the assembly records it. */
  readonly path?: string;
  /** `StateMachineName`, when the stack sets one. */
  readonly stateMachineName?: string;
}

export interface LoadedAssembly {
  readonly directory: string;
  readonly stackName: string;
  readonly template: LocalTemplate;
  readonly assets: Map<string, string>;
  readonly machines: readonly MachineInfo[];
  /** Removes the directory when the local run synthesized it into a temporary directory. */
  dispose(): void;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly properties?: { templateFile?: string; stackName?: string; file?: string };
  readonly dependencies?: string[];
  readonly metadata?: Record<string, Array<{ type: string; data?: unknown }>>;
}

function isStack(source: AppSource): source is StackLike {
  return typeof source === 'object' && 'artifactId' in source && 'node' in source;
}

/** Reads (or synthesizes, then reads) a stack of an app. */
export function loadAssembly(source: AppSource, stack?: string): LoadedAssembly {
  let directory: string;
  let owned = false;
  let wanted = stack;
  if (typeof source === 'string') {
    directory = resolve(source);
    if (!existsSync(join(directory, 'manifest.json'))) {
      throw new LocalAppError(`${source} is not a cloud assembly (no manifest.json): pass the output directory of \`cdk synth\` (cdk.out)`);
    }
  } else {
    const app = (isStack(source) ? source.node.root : source) as Partial<AppLike>;
    if (typeof app.synth !== 'function') throw new LocalAppError('The app must be a directory (cdk.out), an App, or a Stack of an App');
    directory = app.synth().directory;
    // aws-cdk-lib synthesizes an App without `outdir` into a temporary directory: the local run removes it.
    owned = [tmpdir(), realpathSync(tmpdir())].includes(dirname(directory)) && basename(directory).startsWith('cdk.out');
    if (isStack(source)) wanted ??= source.artifactId;
  }
  try {
    return readStack(directory, owned, wanted);
  } catch (error) {
    if (owned) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

/** Reads one stack of a cloud assembly (`owned`: the directory is removed by `dispose`). */
function readStack(directory: string, owned: boolean, wanted: string | undefined): LoadedAssembly {
  const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as { artifacts?: Record<string, ManifestArtifact> };
  const artifacts = manifest.artifacts ?? {};
  const stacks = Object.entries(artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const candidates = wanted
    ? stacks.filter(([id, a]) => id === wanted || a.properties?.stackName === wanted)
    : stacks.length === 1 ? stacks : stacks.filter(([, a]) => templateOf(directory, a).Resources
      && Object.values(templateOf(directory, a).Resources).some((r) => r.Type === 'AWS::StepFunctions::StateMachine'));
  if (candidates.length !== 1) {
    const names = stacks.map(([id]) => id).join(', ') || 'none';
    throw new LocalAppError(wanted
      ? `No stack ${wanted} in the app; its stacks: ${names}`
      : `The app has ${candidates.length || stacks.length} stacks with state machines (${names}); choose one (--stack / options.stack)`);
  }
  const [artifactId, artifact] = candidates[0];
  const [account, region] = parseEnvironment(artifact.environment);
  const stackName = artifact.properties?.stackName ?? artifactId;
  const template = new LocalTemplate(templateOf(directory, artifact), { region, accountId: account, stackName });
  const assetManifest = (artifact.dependencies ?? []).map((id) => artifacts[id]).find((a) => a?.type === 'cdk:asset-manifest');
  const assets = assetManifest?.properties?.file ? assetDirectories(directory, assetManifest.properties.file) : new Map<string, string>();
  const paths = new Map<string, string>();
  for (const [path, entries] of Object.entries(artifact.metadata ?? {})) {
    for (const entry of entries) if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') paths.set(entry.data, path.replace(/^\//, ''));
  }
  const machines = template.ofType('AWS::StepFunctions::StateMachine').map((logicalId): MachineInfo => {
    const resource = template.resource(logicalId) as { Properties?: { StateMachineName?: unknown }; Metadata?: Record<string, unknown> };
    const path = paths.get(logicalId) ?? (typeof resource.Metadata?.['aws:cdk:path'] === 'string' ? resource.Metadata['aws:cdk:path'] : undefined);
    const name = resource.Properties?.StateMachineName;
    return { logicalId, path, stateMachineName: typeof name === 'string' ? name : undefined };
  });
  return {
    directory,
    stackName,
    template,
    assets,
    machines,
    dispose: () => {
      if (owned) rmSync(directory, { recursive: true, force: true });
    },
  };
}

function templateOf(directory: string, artifact: ManifestArtifact): CfnTemplate {
  const file = artifact.properties?.templateFile;
  if (!file) throw new LocalAppError('A stack of the cloud assembly has no template file');
  const template = JSON.parse(readFileSync(join(directory, file), 'utf8')) as Partial<CfnTemplate>;
  return { ...template, Resources: template.Resources ?? {} };
}

function parseEnvironment(environment = ''): [string, string] {
  const match = /^aws:\/\/([^/]+)\/(.+)$/.exec(environment);
  const account = match && /^\d{12}$/.test(match[1]) ? match[1] : DEFAULT_ENV.account;
  const region = match && !match[2].startsWith('unknown-') ? match[2] : DEFAULT_ENV.region;
  return [account, region];
}

/** The names a machine answers to: logical id, `StateMachineName`, construct path (with and without `/Resource`), construct id. */
export function machineNames(machine: MachineInfo): string[] {
  const names = [machine.logicalId];
  if (machine.stateMachineName) names.push(machine.stateMachineName);
  if (machine.path) {
    const path = machine.path.replace(/\/Resource$/, '');
    names.push(machine.path, path, path.split('/').slice(1).join('/'), path.split('/').pop()!);
  }
  return [...new Set(names)];
}

/** Finds a machine by any of its names; the error lists the machines there are. */
export function findMachine(machines: readonly MachineInfo[], name: string): MachineInfo {
  const wanted = name.replace(/^\//, '');
  const exact = machines.filter((m) => m.logicalId === wanted);
  const found = exact.length ? exact : machines.filter((m) => machineNames(m).includes(wanted));
  if (found.length === 1) return found[0];
  const list = machines.map((m) => (m.path ? `${m.logicalId} (${m.path.replace(/\/Resource$/, '')})` : m.logicalId)).join(', ') || 'none';
  throw new LocalAppError(found.length
    ? `"${name}" names ${found.length} state machines; use a logical id: ${list}`
    : `No state machine "${name}" in the stack; its state machines: ${list}`);
}
