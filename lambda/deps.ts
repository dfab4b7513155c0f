/**
 * What the modules need from the outside world, created once per cold start (see `index.ts`) and passed in, so each
 * module can be tested alone with its own clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HttpPut } from './cfn-callback';
import { Config } from './config';
import { InvokeFunction } from './describe-via';
import { MetricsSink } from './metrics';
import { TrackingTable } from './tracking-table';

/** The logging surface the modules use (Powertools Logger in the function; anything compatible in tests). */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface Deps {
  readonly config: Config;
  readonly log: Log;
  readonly table: TrackingTable;
  readonly redshiftData: RedshiftDataClient;
  readonly sfn: SFNClient;
  /** Writes result exports (created on first use: only exports load it). */
  readonly s3: S3Client;
  /** PUTs a CloudFormation response to a pre-signed URL. */
  readonly httpPut: HttpPut;
  /** Invokes another function of the tasker (a completer asks a statement's starter to describe it). */
  readonly invoke: InvokeFunction;
  /** Where completions and counters are measured (CloudWatch EMF in the function). */
  readonly metrics: MetricsSink;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Milliseconds this invocation has left (Lambda's context); unbounded when unknown. */
  readonly remainingTimeMs?: () => number;
  /**
   * Handles an invocation event in this function, as if it had been invoked with it (the router): a completion runs a
   * CloudFormation request's SQL again after a serialization conflict through it.
   */
  readonly restart?: (event: Record<string, unknown>) => Promise<unknown>;
  /** A random number in [0, 1) (backoff jitter). @default Math.random */
  readonly random?: () => number;
}

export interface Clients {
  readonly ddb: DynamoDBDocumentClient;
  readonly redshiftData: RedshiftDataClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
}

/**
 * The SDK clients with the SDK's default configuration chain (`AWS_ENDPOINT_URL_<SERVICE>` works), each created on
 * first use and then kept for the life of the execution environment: a start creates DynamoDB and Redshift Data, a
 * completion DynamoDB and Step Functions. (The bundle also evaluates each client package on first use: see the build
 * script's `lazySdkClients`.)
 */
export function createClients(): Clients {
  let ddb: DynamoDBDocumentClient | undefined;
  let redshiftData: RedshiftDataClient | undefined;
  let sfn: SFNClient | undefined;
  let s3: S3Client | undefined;
  return {
    get ddb() {
      ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
      return ddb;
    },
    get redshiftData() {
      redshiftData ??= new RedshiftDataClient({});
      return redshiftData;
    },
    get sfn() {
      sfn ??= new SFNClient({});
      return sfn;
    },
    get s3() {
      s3 ??= new S3Client({});
      return s3;
    },
  };
}
