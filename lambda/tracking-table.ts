/**
 * The DynamoDB tracking table: one item per started statement (the original's schema) and one item per held singleton
 * lock. Every item carries a TTL, so nothing lives forever.
 *
 * Statement item: `id` (caller id), `invocationId`, `sqlStatement` (truncated), `callback_details` (JSON string, see `callback-details.ts`),
 * `TTL`, optional `singletonLock`; on completion also `completedBy` (the SQS message that claimed it),
 * `completedAt`, `statementId`, `finished_event_details`.
 * Lock item: `id` = `singleton-lock#<sha256>`, `invocationId` = `lock`, `holder` (statement name), `leaseExpiresAt`,
 * optional `statementId`, `TTL`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StatementName } from './statement-name';
import { Table } from '../src/contract';

export interface StatementItem {
  readonly key: StatementName;
  readonly sqlStatement: string;
  /** JSON of the callback to make on completion (`{}` when none). */
  readonly callbackDetails: string;
  /** Epoch seconds after which DynamoDB may delete the item. */
  readonly ttl: number;
  readonly singletonLock?: string;
}

/** What the completer learns when it claims a statement's completion. */
export interface ClaimedStatement {
  readonly callbackDetails?: string;
  readonly singletonLock?: string;
}

export interface Claim {
  /** The claimant: the SQS message id, stable across redeliveries of the same message. */
  readonly owner: string;
  readonly statementId: string;
  readonly event: unknown;
  readonly ttl: number;
  readonly completedAt: string;
}

export interface Lock {
  readonly holder: string;
  readonly leaseExpiresAt: number;
  readonly statementId?: string;
}

const LOCK_SORT_KEY = 'lock';
const TTL = '#ttl';
const NAMES = { [TTL]: Table.TTL_ATTRIBUTE };

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException
    || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** Runs a conditional write: `true` when it was applied, `false` when its condition did not hold. */
async function applied(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export class TrackingTable {
  constructor(private readonly ddb: DynamoDBDocumentClient, private readonly tableName: string) {}

  private key(name: StatementName) {
    return { [Table.PARTITION_KEY]: name.id, [Table.SORT_KEY]: name.invocationId };
  }

  private lockKey(lockId: string) {
    return { [Table.PARTITION_KEY]: lockId, [Table.SORT_KEY]: LOCK_SORT_KEY };
  }

  /** Registers a statement before it starts. `false` when the key is taken (start again with a new invocation id). */
  async register(item: StatementItem): Promise<boolean> {
    return applied(() => this.ddb.send(new PutCommand({
      TableName: this.tableName,
      Item: {
        ...this.key(item.key),
        sqlStatement: item.sqlStatement,
        callback_details: item.callbackDetails,
        [Table.TTL_ATTRIBUTE]: item.ttl,
        ...item.singletonLock !== undefined ? { singletonLock: item.singletonLock } : {},
      },
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': Table.PARTITION_KEY },
    })));
  }

  /** Removes the registration of a statement that could not be started (so `LATEST` never points at it). */
  async unregister(name: StatementName): Promise<void> {
    await this.ddb.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(name) }));
  }

  /**
   * Claims the completion of a statement for one SQS message, atomically: succeeds for the first message (and for
   * redeliveries of that same message), fails for every other copy of the event. `undefined` when the statement is
   * not tracked here or another message already claimed it.
   */
  async claimCompletion(name: StatementName, claim: Claim): Promise<ClaimedStatement | undefined> {
    try {
      const result = await this.ddb.send(new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(name),
        UpdateExpression: `SET completedBy = :owner, completedAt = :at, statementId = :sid, finished_event_details = :event, ${TTL} = :ttl`,
        ConditionExpression: 'attribute_exists(callback_details) AND (attribute_not_exists(completedBy) OR completedBy = :owner)',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: {
          ':owner': claim.owner, ':at': claim.completedAt, ':sid': claim.statementId, ':event': claim.event, ':ttl': claim.ttl,
        },
        ReturnValues: 'ALL_OLD',
      }));
      const old = result.Attributes ?? {};
      return {
        callbackDetails: typeof old.callback_details === 'string' ? old.callback_details : undefined,
        singletonLock: typeof old.singletonLock === 'string' ? old.singletonLock : undefined,
      };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Gives a claim back after a failed callback, so another copy of the event (or a retry) can complete it. */
  async releaseClaim(name: StatementName, owner: string): Promise<void> {
    await applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: 'REMOVE completedBy, completedAt',
      ConditionExpression: 'completedBy = :owner',
      ExpressionAttributeValues: { ':owner': owner },
    })));
  }

  /** The most recent statement registered for a caller id (invocation ids sort by start time). */
  async latestStatement(id: string): Promise<{ invocationId: string; statementId?: string } | undefined> {
    const result = await this.ddb.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: '#id = :id',
      ExpressionAttributeNames: { '#id': Table.PARTITION_KEY, '#inv': Table.SORT_KEY },
      ExpressionAttributeValues: { ':id': id },
      ProjectionExpression: '#inv, statementId',
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }));
    const item = result.Items?.[0];
    if (!item) return undefined;
    return {
      invocationId: String(item[Table.SORT_KEY]),
      ...typeof item.statementId === 'string' ? { statementId: item.statementId } : {},
    };
  }

  /** Takes a free (or expired) lock. `false` when someone holds it. */
  async acquireLock(lockId: string, holder: string, leaseExpiresAt: number, now: number): Promise<boolean> {
    return applied(() => this.ddb.send(new PutCommand({
      TableName: this.tableName,
      Item: { ...this.lockKey(lockId), holder, leaseExpiresAt, [Table.TTL_ATTRIBUTE]: leaseExpiresAt + 86_400 },
      ConditionExpression: 'attribute_not_exists(#id) OR leaseExpiresAt < :now',
      ExpressionAttributeNames: { '#id': Table.PARTITION_KEY },
      ExpressionAttributeValues: { ':now': now },
    })));
  }

  async readLock(lockId: string): Promise<Lock | undefined> {
    const result = await this.ddb.send(new GetCommand({ TableName: this.tableName, Key: this.lockKey(lockId), ConsistentRead: true }));
    const item = result.Item;
    if (!item) return undefined;
    return {
      holder: String(item.holder),
      leaseExpiresAt: Number(item.leaseExpiresAt),
      ...typeof item.statementId === 'string' ? { statementId: item.statementId } : {},
    };
  }

  /** Takes a lock from a holder that is known to be gone. `false` if the lock changed meanwhile. */
  async takeOverLock(lockId: string, previousHolder: string, holder: string, leaseExpiresAt: number): Promise<boolean> {
    return applied(() => this.ddb.send(new PutCommand({
      TableName: this.tableName,
      Item: { ...this.lockKey(lockId), holder, leaseExpiresAt, [Table.TTL_ATTRIBUTE]: leaseExpiresAt + 86_400 },
      ConditionExpression: 'holder = :previous',
      ExpressionAttributeValues: { ':previous': previousHolder },
    })));
  }

  /** Records the started statement on the lock and extends its lease to cover the statement's run. */
  async confirmLock(lockId: string, holder: string, statementId: string, leaseExpiresAt: number): Promise<boolean> {
    return applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.lockKey(lockId),
      UpdateExpression: `SET statementId = :sid, leaseExpiresAt = :lease, ${TTL} = :ttl`,
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':sid': statementId, ':lease': leaseExpiresAt, ':ttl': leaseExpiresAt + 86_400, ':holder': holder },
    })));
  }

  /** Releases a lock if `holder` still holds it. */
  async releaseLock(lockId: string, holder: string): Promise<boolean> {
    return applied(() => this.ddb.send(new DeleteCommand({
      TableName: this.tableName,
      Key: this.lockKey(lockId),
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': holder },
    })));
  }
}
