/**
 * The local AWS services on their own (no synthesized stack), every one the handler calls behind a counting,
 * fault-injecting proxy: DynamoDB (dynalite) with the tracking table, the Step Functions callback endpoint, the Redshift
 * Data API stand-in, and a CloudFormation ResponseURL server; and the S3 stand-in with the bucket `LOCAL_BUCKET` (result
 * exports; its calls are counted by the server itself). The reliability suite and the benchmarks run the
 * bundled handler (`lambda/handler.ts`) against it.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handlerEnvironment } from './lambda/handler';
import { CfnResponseServer, startCfnResponseServer } from './servers/cfn-response';
import { LocalDynamoDb, startLocalDynamoDb } from './servers/dynamodb';
import { DYNAMODB_PROTOCOL, FaultProxy, REDSHIFT_DATA_PROTOCOL, SFN_PROTOCOL, startFaultProxy } from './servers/fault-proxy';
import { RedshiftDataServer, RedshiftDataServerOptions, startRedshiftDataServer } from './servers/redshift-data';
import { S3Server, startS3Server } from './servers/s3';
import { SfnCallbackServer, SfnCallbackServerOptions, startSfnCallbackServer } from './servers/sfn-callbacks';

/** The bucket of the local S3 stand-in (result exports). */
export const LOCAL_BUCKET = 'local-results';

export interface LocalAws {
  readonly dynamo: LocalDynamoDb;
  readonly tableName: string;
  readonly sfn: SfnCallbackServer;
  readonly dataApi: RedshiftDataServer;
  readonly cfn: CfnResponseServer;
  readonly s3: S3Server;
  /** Proxies in front of DynamoDB, Step Functions and the Data API (the handler talks to these). */
  readonly proxies: { readonly dynamodb: FaultProxy; readonly sfn: FaultProxy; readonly redshiftData: FaultProxy };
  /** The handler's environment for these endpoints. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Calls per service and operation since the last `resetCounts()`. */
  counts(): { dynamodb: Record<string, number>; sfn: Record<string, number>; redshiftData: Record<string, number>; s3: Record<string, number> };
  resetCounts(): void;
  /** Removes the faults injected at the proxies and in the Step Functions and Data API stand-ins (not the response URL server's). */
  clearFaults(): void;
  /** Every item of the tracking table. */
  items(): Promise<Record<string, any>[]>;
  close(): Promise<void>;
}

export interface LocalAwsOptions {
  readonly dataApi?: RedshiftDataServerOptions;
  readonly sfn?: SfnCallbackServerOptions;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const started: Array<{ close(): Promise<void> }> = [];
  const track = async <T extends { close(): Promise<void> }>(server: Promise<T>): Promise<T> => {
    const value = await server;
    started.push(value);
    return value;
  };
  try {
    const [dynamo, sfn, dataApi, cfn, s3] = await Promise.all([
      track(startLocalDynamoDb()),
      track(startSfnCallbackServer(options.sfn)),
      track(startRedshiftDataServer(options.dataApi)),
      track(startCfnResponseServer()),
      track(startS3Server({ buckets: [LOCAL_BUCKET] })),
    ]);
    const tableName = await dynamo.createTrackingTable();
    const proxies = {
      dynamodb: await track(startFaultProxy({ target: dynamo.endpoint, ...DYNAMODB_PROTOCOL })),
      sfn: await track(startFaultProxy({ target: sfn.endpoint, ...SFN_PROTOCOL })),
      redshiftData: await track(startFaultProxy({ target: dataApi.endpoint, ...REDSHIFT_DATA_PROTOCOL })),
    };
    return localAws(dynamo, tableName, sfn, dataApi, cfn, s3, proxies);
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw error;
  }
}

function localAws(
  dynamo: LocalDynamoDb, tableName: string, sfn: SfnCallbackServer, dataApi: RedshiftDataServer, cfn: CfnResponseServer,
  s3: S3Server, proxies: LocalAws['proxies'],
): LocalAws {
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  return {
    dynamo,
    tableName,
    sfn,
    dataApi,
    cfn,
    s3,
    proxies,
    env(extra = {}) {
      return handlerEnvironment({
        dynamodb: proxies.dynamodb.endpoint, sfn: proxies.sfn.endpoint, redshiftData: proxies.redshiftData.endpoint,
      }, tableName, { AWS_ENDPOINT_URL_S3: s3.endpoint, ...extra });
    },
    counts() {
      return {
        dynamodb: proxies.dynamodb.counts(), sfn: proxies.sfn.counts(), redshiftData: proxies.redshiftData.counts(), s3: Object.fromEntries(s3.calls),
      };
    },
    resetCounts() {
      for (const proxy of Object.values(proxies)) proxy.reset();
      s3.calls.clear();
    },
    clearFaults() {
      for (const proxy of Object.values(proxies)) proxy.setFaults(undefined);
      sfn.setFaults(undefined);
      dataApi.setFaults(undefined);
    },
    async items() {
      const items: Record<string, any>[] = [];
      let start: Record<string, any> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...page.Items ?? []);
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async close() {
      await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
      await Promise.all([sfn.close(), dataApi.close(), cfn.close(), s3.close()]);
      await dynamo.close();
    },
  };
}

/** The partition key (`id`) of the item a DynamoDB request reads or writes, if any. */
export function itemIdOf(body: Record<string, any>): string | undefined {
  return body.Item?.id?.S ?? body.Key?.id?.S;
}
