/// <reference path="../types.d.ts" />
/**
 * A real DynamoDB implementation (dynalite) on 127.0.0.1, for tests, the local run and the benchmarks.
 */
import { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { Table } from '../../src/contract';

export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** A client bound to the endpoint (dummy credentials). */
  readonly client: DynamoDBClient;
  /** Creates a tracking table with the construct's key schema and its `inFlight` index; returns its name. */
  createTrackingTable(name?: string): Promise<string>;
  close(): Promise<void>;
}

let tableCounter = 0;

/** Starts dynalite in memory on a free loopback port. */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint,
    client,
    async createTrackingTable(name?: string) {
      const tableName = name ?? `tracking-table-${process.pid}-${++tableCounter}`;
      await client.send(new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: Table.PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: Table.SORT_KEY, AttributeType: 'S' },
          { AttributeName: Table.IN_FLIGHT_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: Table.REGISTERED_AT_ATTRIBUTE, AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: Table.PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: Table.SORT_KEY, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{
          IndexName: Table.IN_FLIGHT_INDEX,
          KeySchema: [
            { AttributeName: Table.IN_FLIGHT_ATTRIBUTE, KeyType: 'HASH' },
            { AttributeName: Table.REGISTERED_AT_ATTRIBUTE, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...Table.IN_FLIGHT_PROJECTION] },
        }],
      }));
      return tableName;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
