/**
 * Everything a synthesized stack needs to run on this machine, on 127.0.0.1 only, built from its template:
 *
 * - DynamoDB tables (dynalite), the Redshift Data API (PGlite), the Step Functions callback endpoint, a
 *   CloudFormation ResponseURL server, the template's S3 buckets (`servers/s3.ts`);
 * - every Node.js Lambda function of the template, from its asset directory (the bundled file Lambda would load),
 *   with its resolved environment plus `AWS_ENDPOINT_URL_*` pointing at the local servers and the local Lambda
 *   Invoke endpoint;
 * - SQS queues with their redrive policy, event source mappings (batch size, `ReportBatchItemFailures`), and
 *   EventBridge rules whose pattern matches the Data API's status-change events, targeting those queues;
 * - the state machines (definitions with ARNs resolved to the local functions and machines) and a CloudFormation
 *   driver for the custom resources.
 */
import { CreateTableCommand, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { Env } from '../src/contract';
import { CloudFormationDriver, CloudFormationDriverProps } from './cloudformation/driver';
import { Json, LocalTemplate } from './cloudformation/template';
import { LocalLambdaRuntime } from './lambda/runtime';
import { CfnResponseServer, startCfnResponseServer } from './servers/cfn-response';
import { LocalDynamoDb, startLocalDynamoDb } from './servers/dynamodb';
import { RedshiftDataServer, StatementRecord, StatementStatus, startRedshiftDataServer, StatusChangeEvent } from './servers/redshift-data';
import { S3Server, startS3Server } from './servers/s3';
import { SfnCallbackServer, startSfnCallbackServer } from './servers/sfn-callbacks';
import { LocalQueue } from './servers/sqs-queue';
import { startUnsupportedServices, UnsupportedServicesServer } from './servers/unsupported';
import { LocalStepFunctions, LocalStepFunctionsProps, TraceEvent } from './stepfunctions/runner';

export interface LocalCloudOptions {
  readonly template: LocalTemplate;
  /** `Code.S3Key` → asset directory (see `assetDirectories`). */
  readonly assets: Map<string, string>;
  /** Upper bound on a queue's visibility timeout (the redelivery delay after a failure). @default 2000 */
  readonly maxVisibilityTimeoutMs?: number;
  /** Execution environments per function (a fast-path start holds one while it waits). @default 20 */
  readonly maxEnvironments?: number;
  /** Every line the functions log. */
  readonly onLog?: (line: string, functionName: string) => void;
  /** State machine trace. */
  readonly onTrace?: (event: TraceEvent) => void;
  /** Data API statement status changes. */
  readonly onStatement?: (statement: StatementRecord, status: StatementStatus) => void;
  /** Custom-resource requests and responses. */
  readonly onCustomResource?: CloudFormationDriverProps['onEvent'];
  /** Answers Task states before their resource is called (mocked responses, see `LocalStepFunctionsProps`). */
  readonly answerTask?: LocalStepFunctionsProps['answerTask'];
  /**
   * A directory that keeps the databases between runs (PGlite): created when missing, reused when it exists, never
   * deleted. @default - a temporary directory, deleted on close
   */
  readonly dataDir?: string;
}

export class LocalCloud {
  /** Starts every stand-in the template needs. */
  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    try {
      await cloud.init();
    } catch (error) {
      await cloud.close();
      throw error;
    }
    return cloud;
  }

  public dynamo!: LocalDynamoDb;
  public redshift!: RedshiftDataServer;
  public callbacks!: SfnCallbackServer;
  public responses!: CfnResponseServer;
  /** Where the functions' calls to services without a stand-in go: answered with an error naming them. */
  public unsupported!: UnsupportedServicesServer;
  /** The template's buckets (result exports). */
  public s3!: S3Server;
  public readonly lambda = new LocalLambdaRuntime();
  public stepFunctions!: LocalStepFunctions;
  public cloudFormation!: CloudFormationDriver;
  /** Queues by logical id. */
  public readonly queues = new Map<string, LocalQueue>();
  /** Functions of the template that cannot run here (not Node.js, no asset), with the reason. */
  public readonly skippedFunctions: Array<{ logicalId: string; reason: string }> = [];

  private readonly template: LocalTemplate;
  private readonly unsubscribe: Array<() => void> = [];
  private closing?: Promise<void>;

  private constructor(private readonly options: LocalCloudOptions) {
    this.template = options.template;
  }

  /** The local ARN of a state machine by logical id. */
  stateMachineArn(logicalId: string): string {
    return this.template.arn(logicalId);
  }

  /** Stops every server, process and worker; nothing keeps running. Later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= this.stopAll();
    return this.closing;
  }

  private async stopAll(): Promise<void> {
    for (const stop of this.unsubscribe) stop();
    for (const queue of this.queues.values()) queue.close();
    await Promise.allSettled([
      this.lambda.close(),
      this.redshift?.close(),
      this.callbacks?.close(),
      this.responses?.close(),
      this.unsupported?.close(),
      this.s3?.close(),
      this.dynamo?.close(),
    ]);
  }

  private async init(): Promise<void> {
    const { template } = this;
    const { accountId } = template.context;
    [this.dynamo, this.callbacks, this.responses, this.s3] = await Promise.all([
      startLocalDynamoDb(), startSfnCallbackServer(), startCfnResponseServer(),
      startS3Server({ buckets: template.ofType('AWS::S3::Bucket').map((id) => template.ref(id)) }),
    ]);
    this.redshift = await startRedshiftDataServer({
      accountId,
      ...this.options.dataDir ? { dataDir: this.options.dataDir } : {},
      // The stack's clusters and workgroups, and those its functions name (a cluster of another stack).
      clusters: [...template.ofType('AWS::Redshift::Cluster').map((id) => template.ref(id)), ...this.functionVariables(Env.CLUSTER_IDENTIFIER)],
      workgroups: [
        ...template.ofType('AWS::RedshiftServerless::Workgroup').map((id) => String(template.resolve(template.resource(id).Properties?.WorkgroupName ?? id))),
        ...this.functionVariables(Env.WORKGROUP_NAME),
      ],
    });
    if (this.options.onStatement) this.unsubscribe.push(this.redshift.onStatusChange(this.options.onStatement));

    await this.createTables();
    await this.addFunctions();
    this.wireQueues();
    this.registerMachines();
  }

  /** The values of an environment variable of the template's functions. */
  private functionVariables(name: string): string[] {
    const { template } = this;
    return template.ofType('AWS::Lambda::Function').map((id) => {
      const variables = template.resolve(template.resource(id).Properties?.Environment ?? null) as { Variables?: Record<string, Json> } | null;
      return variables?.Variables?.[name];
    }).filter((value): value is string => typeof value === 'string' && value !== '');
  }

  private async createTables(): Promise<void> {
    const { template } = this;
    // ---- DynamoDB tables ----
    for (const id of template.ofType('AWS::DynamoDB::Table')) {
      const p = template.resolve(template.resource(id).Properties as Json) as Record<string, Json>;
      await this.dynamo.client.send(new CreateTableCommand({
        TableName: template.ref(id),
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        ...p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {},
        BillingMode: 'PAY_PER_REQUEST',
      } as unknown as CreateTableCommandInput));
    }

  }

  private async addFunctions(): Promise<void> {
    const { template } = this;
    const { region, accountId } = template.context;
    // ---- Lambda functions ----
    const invokeEndpoint = await this.lambda.startInvokeServer();
    this.unsupported = await startUnsupportedServices();
    const endpoints = {
      // Every other service: an error naming it, never the internet.
      AWS_ENDPOINT_URL: this.unsupported.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.endpoint,
      AWS_ENDPOINT_URL_REDSHIFT_DATA: this.redshift.endpoint,
      AWS_ENDPOINT_URL_SFN: this.callbacks.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: invokeEndpoint,
      AWS_ENDPOINT_URL_S3: this.s3.endpoint,
      // The CloudFormation stand-in's response URLs are on 127.0.0.1: an explicit opt-in the construct never sets.
      [Env.LOOPBACK_RESPONSE_URLS]: 'true',
    };
    for (const id of template.ofType('AWS::Lambda::Function')) {
      const p = template.resolve(template.resource(id).Properties as Json) as Record<string, Json> & {
        Code?: { S3Key?: string }; Environment?: { Variables?: Record<string, string> };
      };
      const runtime = String(p.Runtime ?? '');
      const codeDir = p.Code?.S3Key ? this.options.assets.get(p.Code.S3Key) : undefined;
      if (!runtime.startsWith('nodejs')) {
        this.skippedFunctions.push({ logicalId: id, reason: `runtime ${runtime || '(image)'} is not Node.js` });
        continue;
      }
      if (!codeDir) {
        this.skippedFunctions.push({ logicalId: id, reason: 'no asset directory for its code' });
        continue;
      }
      this.lambda.add({
        name: template.ref(id),
        codeDir,
        handler: String(p.Handler ?? 'index.handler'),
        environment: { ...p.Environment?.Variables, ...endpoints },
        timeoutSeconds: Number(p.Timeout ?? 3),
        memoryMb: Number(p.MemorySize ?? 128),
        region,
        accountId,
        maxEnvironments: this.options.maxEnvironments ?? 20,
        onLog: this.options.onLog,
      });
    }

  }

  private wireQueues(): void {
    const { template } = this;
    // ---- Queues, event source mappings, rules ----
    const mappings = template.ofType('AWS::Lambda::EventSourceMapping').map((id) => template.resolve(template.resource(id).Properties as Json) as Record<string, Json>);
    for (const id of template.ofType('AWS::SQS::Queue')) {
      const p = template.resolve(template.resource(id).Properties as Json) as Record<string, Json> & { RedrivePolicy?: { maxReceiveCount?: number } };
      const arn = template.arn(id);
      const mapping = mappings.find((m) => m.EventSourceArn === arn);
      this.queues.set(id, new LocalQueue({
        arn,
        batchSize: Number(mapping?.BatchSize ?? 10),
        batchingWindowMs: Number(mapping?.MaximumBatchingWindowInSeconds ?? 0) * 1000 || 20,
        visibilityTimeoutMs: Math.min(Number(p.VisibilityTimeout ?? 30) * 1000, this.options.maxVisibilityTimeoutMs ?? 2000),
        maxReceiveCount: Number(p.RedrivePolicy?.maxReceiveCount ?? Number.MAX_SAFE_INTEGER),
        maxConcurrency: Number((mapping?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 5),
      }));
    }
    for (const mapping of mappings) {
      const queue = [...this.queues.values()].find((q) => q.arn === mapping.EventSourceArn);
      const fn = this.lambda.get(String(mapping.FunctionName));
      if (!queue || !fn) continue;
      const partial = (mapping.FunctionResponseTypes as string[] | undefined)?.includes('ReportBatchItemFailures') ?? false;
      queue.setConsumer(async (event) => {
        const result = await fn.invoke(event);
        if (result.functionError) {
          const error = result.payload as { errorType?: string; errorMessage?: string };
          throw Object.assign(new Error(error.errorMessage ?? 'function error'), { name: error.errorType ?? 'Error' });
        }
        return partial ? (result.payload as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null) ?? {} : {};
      });
    }
    for (const id of template.ofType('AWS::Events::Rule')) {
      const p = template.resolve(template.resource(id).Properties as Json) as Record<string, Json> & {
        EventPattern?: Record<string, Json>; Targets?: Array<{ Arn: string }>; State?: string;
      };
      if (p.State === 'DISABLED' || !p.EventPattern) continue;
      const targets = (p.Targets ?? []).map((t) => [...this.queues.values()].find((q) => q.arn === t.Arn)).filter((q): q is LocalQueue => !!q);
      const pattern = p.EventPattern;
      this.unsubscribe.push(this.redshift.onEvent((event) => {
        if (!matchesPattern(pattern, event as unknown as Record<string, Json>)) return;
        for (const queue of targets) queue.send(JSON.stringify(event));
      }));
    }

  }

  private registerMachines(): void {
    const { template } = this;
    const { region, accountId } = template.context;
    // ---- State machines and custom resources ----
    this.stepFunctions = new LocalStepFunctions({
      lambda: this.lambda,
      callbacks: this.callbacks,
      region,
      accountId,
      onTrace: this.options.onTrace,
      answerTask: this.options.answerTask,
      s3Endpoint: this.s3.endpoint,
    });
    for (const id of template.ofType('AWS::StepFunctions::StateMachine')) {
      const p = template.resource(id).Properties ?? {};
      const definition = p.DefinitionString !== undefined
        ? String(template.resolve(p.DefinitionString))
        : JSON.stringify(template.resolve(p.Definition));
      this.stepFunctions.register(template.ref(id).split(':').pop()!, definition);
    }
    const stepFunctions = this.stepFunctions;
    this.callbacks.setExecutions({
      describe: (arn) => stepFunctions.describeExecution(arn),
      stop: async (arn) => (await stepFunctions.stopExecution(arn))?.stopDate,
    });
    this.cloudFormation = new CloudFormationDriver({
      template, lambda: this.lambda, responses: this.responses, onEvent: this.options.onCustomResource,
    });
  }
}

/** One value of a pattern's list: an exact value, or `{ "wildcard": "..." }` (`*` matches any characters). */
function matchesValue(expected: Json, actual: Json | undefined): boolean {
  if (expected && typeof expected === 'object' && !Array.isArray(expected) && typeof (expected as { wildcard?: unknown }).wildcard === 'string') {
    if (typeof actual !== 'string') return false;
    const parts = String((expected as { wildcard: string }).wildcard).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${parts.join('.*')}$`, 's').test(actual);
  }
  return expected === actual;
}

/** EventBridge pattern matching for the subset rules use here: lists of exact values and wildcards, nested objects. */
export function matchesPattern(pattern: Record<string, Json>, event: Record<string, Json> | StatusChangeEvent): boolean {
  const subject = event as Record<string, Json>;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = subject[key];
    if (Array.isArray(expected)) return expected.some((value) => matchesValue(value, actual));
    if (expected && typeof expected === 'object') {
      return !!actual && typeof actual === 'object' && !Array.isArray(actual) && matchesPattern(expected as Record<string, Json>, actual as Record<string, Json>);
    }
    return false;
  });
}
