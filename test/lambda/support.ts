/**
 * Test support for the runtime modules: real DynamoDB (dynalite on 127.0.0.1) behind the real tracking table, SDK
 * clients that tests mock with aws-sdk-client-mock, and builders for the events the function receives.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { HttpPut } from '../../lambda/cfn-callback';
import { Config, readConfig } from '../../lambda/config';
import { Deps, Log } from '../../lambda/deps';
import { lambdaInvoker } from '../../lambda/describe-via';
import { CountName, MetricsSink, StatementCompletion } from '../../lambda/metrics';
import { route } from '../../lambda/router';
import { TrackingTable } from '../../lambda/tracking-table';
import { LocalDynamoDb } from '../../local/servers/dynamodb';
import { SqsRecord, sqsRecord as localSqsRecord } from '../../local/servers/sqs-queue';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly extra: Record<string, unknown>[];
}

/** A logger that keeps what it is told, so tests can check what (not) to log. */
export class RecordingLog implements Log {
  public readonly lines: LogLine[] = [];
  debug(message: string, ...extra: Record<string, unknown>[]) { this.lines.push({ level: 'DEBUG', message, extra }); }
  info(message: string, ...extra: Record<string, unknown>[]) { this.lines.push({ level: 'INFO', message, extra }); }
  warn(message: string, ...extra: Record<string, unknown>[]) { this.lines.push({ level: 'WARN', message, extra }); }
  error(message: string, ...extra: Record<string, unknown>[]) { this.lines.push({ level: 'ERROR', message, extra }); }
  text(): string { return JSON.stringify(this.lines); }
}

/** Metrics kept in memory, so tests can check what was measured. */
export class RecordingMetrics implements MetricsSink {
  public readonly completions: StatementCompletion[] = [];
  public readonly counts: { name: CountName; tasker: string; value: number }[] = [];
  statementCompleted(completion: StatementCompletion) { this.completions.push(completion); }
  count(name: CountName, tasker: string, value = 1) { this.counts.push({ name, tasker, value }); }
  /** The sum of counter `name`. */
  total(name: CountName): number { return this.counts.filter((c) => c.name === name).reduce((sum, c) => sum + c.value, 0); }
}

export const CLUSTER_ENV = {
  DDB_TABLE_NAME: 'placeholder',
  CLUSTER_IDENTIFIER: 'examplecluster',
  DATABASE: 'dev',
  DB_USER: 'admin',
  TTL: '1',
  LOG_LEVEL: 'DEBUG',
  AWS_REGION: 'eu-west-1',
};

export interface TestDeps extends Deps {
  readonly log: RecordingLog;
  readonly puts: { url: string; body: string }[];
  readonly metrics: RecordingMetrics;
}

/** Deps with a real tracking table on `dynamo` and fresh SDK clients (mock them with `mockClient(...)`). */
export async function makeDeps(dynamo: LocalDynamoDb, options: {
  env?: Record<string, string>; httpPut?: HttpPut; now?: () => number; config?: Partial<Config>;
} = {}): Promise<TestDeps> {
  const tableName = await dynamo.createTrackingTable();
  const config = { ...readConfig({ ...CLUSTER_ENV, ...options.env, DDB_TABLE_NAME: tableName }), ...options.config };
  const puts: { url: string; body: string }[] = [];
  const recordingPut: HttpPut = async (url, body) => {
    puts.push({ url, body });
    return options.httpPut ? options.httpPut(url, body) : 200;
  };
  const ddb = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  const lambda = new LambdaClient({ region: 'eu-west-1' });
  const deps: TestDeps = {
    config,
    log: new RecordingLog(),
    table: new TrackingTable(ddb, tableName),
    redshiftData: new RedshiftDataClient({ region: 'eu-west-1' }),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    httpPut: recordingPut,
    invoke: lambdaInvoker(() => lambda),
    metrics: new RecordingMetrics(),
    now: options.now ?? Date.now,
    puts,
    // A completion's re-run of a CloudFormation request (`conflict-rerun.ts`) goes through the router, without backoff.
    restart: (event) => route(deps, event),
    random: () => 0,
  };
  return deps;
}

/** Records the name of every command `client` sends (`PutItem`, `UpdateItem`, ...) in the returned array. */
export function recordCalls(client: { middlewareStack: DynamoDBDocumentClient['middlewareStack'] }): string[] {
  const calls: string[] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    calls.push(context.commandName!.replace(/Command$/, ''));
    return next(args);
  }, { step: 'initialize', name: 'recordCalls' });
  return calls;
}

/** Every item in the deps' tracking table. */
export async function tableItems(dynamo: LocalDynamoDb, deps: Deps): Promise<Record<string, any>[]> {
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  const result = await documents.send(new ScanCommand({ TableName: deps.config.tableName, ConsistentRead: true }));
  return result.Items ?? [];
}

export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:ExampleMachine:run-1';
export const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAexampleTaskToken==';

/** A "Redshift Data Statement Status Change" event. */
export function statusEvent(statementName: string, statementId: string, state: string, rows = 1): Record<string, any> {
  return {
    'version': '0',
    'id': `event-${statementId}-${state}`,
    'detail-type': 'Redshift Data Statement Status Change',
    'source': 'aws.redshift-data',
    'account': '123456789012',
    'time': '2026-11-24T10:15:30Z',
    'region': 'eu-west-1',
    'resources': ['arn:aws:redshift:eu-west-1:123456789012:cluster:examplecluster'],
    'detail': {
      principal: 'arn:aws:sts::123456789012:assumed-role/ExampleRole/ExampleSession',
      statementName,
      statementId,
      redshiftQueryId: 4711,
      state,
      rows,
      expireAt: 1764086400,
    },
  };
}

let messageCounter = 0;

/** An SQS record carrying `body` (an object is sent as its JSON), as the event source mapping delivers it. */
export function sqsRecord(body: unknown, messageId = `message-${++messageCounter}`): SqsRecord {
  return localSqsRecord({
    messageId, body: typeof body === 'string' ? body : JSON.stringify(body), receiveCount: 1, sentAt: 1_764_000_000_000,
  }, 'arn:aws:sqs:eu-west-1:123456789012:example-queue');
}

/** A CloudFormation custom-resource request with an SQL statement added, as a wrapper function sends it. */
export function cloudFormationEvent(requestType: 'Create' | 'Update' | 'Delete', responseUrl: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:Wrapper',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/example-stack/1a2b3c4d',
    RequestId: `request-${requestType}`,
    LogicalResourceId: 'ExampleTable',
    ResourceType: 'Custom::RedshiftSql',
    ResourceProperties: { ServiceToken: 'x', create_sql: 'create table t(id int)', password: 'md5secret' },
    ...requestType !== 'Create' ? { PhysicalResourceId: 'ExampleTable:1764000000.123000000001' } : {},
    ...extra,
  };
}
