/**
 * Reads a synthesized CloudFormation template the way the local stand-ins need it: physical names for the
 * resources, intrinsic functions resolved (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`,
 * pseudo parameters), asset directories of Lambda functions, and the custom resources in dependency order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly DependsOn?: string | string[];
}

export interface CfnTemplate {
  readonly Resources: Record<string, TemplateResource>;
}

export interface TemplateContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
}

/** The names the local run gives resources (their logical ids, lowercased where AWS requires it). */
export function physicalName(logicalId: string, type: string): string {
  // Cluster identifiers and bucket names are lowercase.
  return type === 'AWS::Redshift::Cluster' || type === 'AWS::S3::Bucket' ? logicalId.toLowerCase() : logicalId;
}

/** A template with its resources resolvable to local names and ARNs. */
export class LocalTemplate {
  public readonly stackId: string;

  constructor(public readonly template: CfnTemplate, public readonly context: TemplateContext) {
    this.stackId = `arn:aws:cloudformation:${context.region}:${context.accountId}:stack/${context.stackName}/00000000-0000-4000-8000-000000000001`;
  }

  /** Logical ids of the resources of a type. */
  ofType(type: string): string[] {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type).map(([id]) => id);
  }

  resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`No resource ${logicalId} in the template`);
    return resource;
  }

  /** What `Ref` returns for a resource. */
  ref(logicalId: string): string {
    const { region, accountId, stackName } = this.context;
    switch (logicalId) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return region;
      case 'AWS::AccountId': return accountId;
      case 'AWS::StackName': return stackName;
      case 'AWS::StackId': return this.stackId;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::NoValue': return '';
    }
    const resource = this.resource(logicalId);
    const name = physicalName(logicalId, resource.Type);
    switch (resource.Type) {
      case 'AWS::StepFunctions::StateMachine': return this.arn(logicalId);
      case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
      default: return name;
    }
  }

  /** What `Fn::GetAtt [id, 'Arn']` returns. */
  arn(logicalId: string): string {
    const { region, accountId } = this.context;
    const resource = this.resource(logicalId);
    const name = physicalName(logicalId, resource.Type);
    switch (resource.Type) {
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::SQS::Queue': return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::IAM::Role': return `arn:aws:iam::${accountId}:role/${name}`;
      case 'AWS::KMS::Key': return `arn:aws:kms:${region}:${accountId}:key/${name}`;
      case 'AWS::Logs::LogGroup': return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
      default: return `arn:aws:${resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown'}:${region}:${accountId}:${name}`;
    }
  }

  /** Resolves intrinsic functions in a value. */
  resolve(value: Json | undefined): Json {
    if (value === undefined) return null;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys;
      const arg = value[key];
      switch (key) {
        case 'Ref': return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
          if (attribute === 'Arn') return this.arn(id);
          return `${this.ref(id)}.${attribute}`;
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, Json];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, Json>];
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (variables[name] !== undefined) return String(this.resolve(variables[name]));
            const [id, attribute] = name.split('.');
            return attribute === 'Arn' ? this.arn(id) : attribute ? `${this.ref(id)}.${attribute}` : this.ref(id);
          });
        }
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  /** Logical ids of the resources `logicalId` depends on (DependsOn and references). */
  dependencies(logicalId: string): Set<string> {
    const resource = this.resource(logicalId);
    const found = new Set<string>([resource.DependsOn ?? []].flat());
    const walk = (node: Json | undefined) => {
      if (Array.isArray(node)) {node.forEach(walk);} else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Ref' && typeof value === 'string' && this.template.Resources[value]) found.add(value);
          else if (key === 'Fn::GetAtt') found.add(Array.isArray(value) ? String(value[0]) : String(value).split('.')[0]);
          else walk(value);
        }
      }
    };
    walk(resource.Properties as Json);
    return found;
  }

  /** The custom resources (`Custom::*`, `AWS::CloudFormation::CustomResource`) in creation waves (dependency order). */
  customResourceWaves(): string[][] {
    const custom = Object.keys(this.template.Resources)
      .filter((id) => this.template.Resources[id].Type.startsWith('Custom::') || this.template.Resources[id].Type === 'AWS::CloudFormation::CustomResource');
    const deps = new Map(custom.map((id) => [id, [...this.dependencies(id)].filter((d) => custom.includes(d))]));
    const waves: string[][] = [];
    const done = new Set<string>();
    while (done.size < custom.length) {
      const wave = custom.filter((id) => !done.has(id) && deps.get(id)!.every((d) => done.has(d)));
      if (!wave.length) throw new Error('Circular dependency between custom resources');
      wave.forEach((id) => done.add(id));
      waves.push(wave);
    }
    return waves;
  }
}

/** Maps a Lambda function's `Code.S3Key` to its asset directory, using the stack's asset manifest. */
export function assetDirectories(cloudAssemblyDir: string, assetManifestFile: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(cloudAssemblyDir, assetManifestFile), 'utf8')) as {
    files?: Record<string, { source: { path?: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const dirs = new Map<string, string>();
  for (const file of Object.values(manifest.files ?? {})) {
    if (!file.source.path) continue;
    for (const destination of Object.values(file.destinations)) dirs.set(destination.objectKey, join(cloudAssemblyDir, file.source.path));
  }
  return dirs;
}

/** CloudFormation hands custom resources every scalar property as a string (`true` → `"true"`, `3` → `"3"`). */
export function asCloudFormationProperties(value: Json): Json {
  if (Array.isArray(value)) return value.map(asCloudFormationProperties);
  if (value === null) return null;
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationProperties(v)]));
  return String(value);
}
