/**
 * The floor of the cold-start benchmark: the SDK v3 clients a path needs, with nothing of the handler (no logger, no
 * metrics, no configuration, no routing), bundled as esbuild bundles them by default (minified CommonJS, every
 * client evaluated at load) and making the same calls as the handler's path, with the SDK's default configuration
 * chain and retries:
 * - `floorStart({ sqlStatement })`: PutItem, then ExecuteStatement (the start path's calls and clients);
 * - `floorCompletion({ taskToken })`: UpdateItem, then SendTaskSuccess (the completion path's).
 * What this costs over bare Node.js is what the handler's path cannot go below while it keeps these clients.
 * `cold-start.ts` bundles each as the `handler` of its own bundle (`buildFloorBundle`: only that path's clients in
 * it) and runs them side by side with the handler.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { Env, Table } from '../src/contract';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`the floor needs ${name} in its environment`);
  return value;
};

const key = () => ({ [Table.PARTITION_KEY]: { S: `floor-${process.pid}-${Date.now()}` }, [Table.SORT_KEY]: { S: 'floor' } });

/** The start path's calls. */
export async function floorStart(event: { sqlStatement: string }): Promise<unknown> {
  const ddb = new DynamoDBClient({});
  const redshiftData = new RedshiftDataClient({});
  await ddb.send(new PutItemCommand({ TableName: env(Env.TABLE_NAME), Item: key() }));
  const started = await redshiftData.send(new ExecuteStatementCommand({
    Sql: event.sqlStatement, ClusterIdentifier: env(Env.CLUSTER_IDENTIFIER), Database: env(Env.DATABASE), DbUser: env(Env.DB_USER), WithEvent: true,
  }));
  return { Id: started.Id };
}

/** The completion path's calls. */
export async function floorCompletion(event: { taskToken: string }): Promise<unknown> {
  const ddb = new DynamoDBClient({});
  const sfn = new SFNClient({});
  await ddb.send(new UpdateItemCommand({
    TableName: env(Env.TABLE_NAME), Key: key(), UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'floor' }, ExpressionAttributeValues: { ':s': { S: 'done' } },
  }));
  await sfn.send(new SendTaskSuccessCommand({ taskToken: event.taskToken, output: '{}' }));
  return { sent: true };
}
