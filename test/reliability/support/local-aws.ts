/**
 * The local AWS the reliability suite and the benchmarks run the bundled handler against, every service behind a
 * counting, fault-injecting proxy: DynamoDB (dynalite), the Step Functions callback endpoint, the Redshift Data API
 * stand-in (embedded PostgreSQL), and a CloudFormation ResponseURL server.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DYNAMODB_PROTOCOL, FaultProxy, REDSHIFT_DATA_PROTOCOL, SFN_PROTOCOL, startFaultProxy } from './fault-proxy';
import { handlerEnv } from './lambda-host';
import { CfnResponseServer, startCfnResponseServer } from '../../../local/servers/cfn-response';
import { LocalDynamoDb, startLocalDynamoDb } from '../../../local/servers/dynamodb';
import { RedshiftDataServer, RedshiftDataServerOptions, startRedshiftDataServer } from '../../../local/servers/redshift-data';
import { SfnCallbackServer, SfnCallbackServerOptions, startSfnCallbackServer } from '../../../local/servers/sfn-callbacks';

export interface LocalAws {
  readonly dynamo: LocalDynamoDb;
  readonly tableName: string;
  readonly sfn: SfnCallbackServer;
  readonly dataApi: RedshiftDataServer;
  readonly cfn: CfnResponseServer;
  /** Proxies in front of DynamoDB, Step Functions and the Data API (the handler talks to these). */
  readonly proxies: { readonly dynamodb: FaultProxy; readonly sfn: FaultProxy; readonly redshiftData: FaultProxy };
  /** The handler's environment for these endpoints. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Calls per service and operation since the last `resetCounts()`. */
  counts(): { dynamodb: Record<string, number>; sfn: Record<string, number>; redshiftData: Record<string, number> };
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
  const dynamo = await startLocalDynamoDb();
  const tableName = await dynamo.createTrackingTable();
  const [sfn, dataApi, cfn] = await Promise.all([
    startSfnCallbackServer(options.sfn),
    startRedshiftDataServer(options.dataApi),
    startCfnResponseServer(),
  ]);
  const proxies = {
    dynamodb: await startFaultProxy({ target: dynamo.endpoint, ...DYNAMODB_PROTOCOL }),
    sfn: await startFaultProxy({ target: sfn.endpoint, ...SFN_PROTOCOL }),
    redshiftData: await startFaultProxy({ target: dataApi.endpoint, ...REDSHIFT_DATA_PROTOCOL }),
  };
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  return {
    dynamo,
    tableName,
    sfn,
    dataApi,
    cfn,
    proxies,
    env(extra = {}) {
      return handlerEnv({
        dynamodb: proxies.dynamodb.endpoint, sfn: proxies.sfn.endpoint, redshiftData: proxies.redshiftData.endpoint,
      }, tableName, extra);
    },
    counts() {
      return { dynamodb: proxies.dynamodb.counts(), sfn: proxies.sfn.counts(), redshiftData: proxies.redshiftData.counts() };
    },
    resetCounts() {
      for (const proxy of Object.values(proxies)) proxy.reset();
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
      await Promise.all([sfn.close(), dataApi.close(), cfn.close()]);
      await dynamo.close();
    },
  };
}

/** The partition key (`id`) of the item a DynamoDB request reads or writes, if any. */
export function itemIdOf(body: Record<string, any>): string | undefined {
  return body.Item?.id?.S ?? body.Key?.id?.S;
}
