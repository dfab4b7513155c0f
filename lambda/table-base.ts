/**
 * What every part of the tracking table shares: the item keys, the conditional-write helper, and the singleton lock
 * items (`id` = `singleton-lock#<sha256>`, `invocationId` = `lock`, `holder` (statement name), `leaseExpiresAt`,
 * optional `statementId`, `TTL`). `TrackingTable` (statement items) builds on it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StatementName } from './statement-name';
import { Table } from '../src/contract';

export interface Lock {
  readonly holder: string;
  readonly leaseExpiresAt: number;
  readonly statementId?: string;
}

export const LOCK_SORT_KEY = 'lock';
export const TTL = '#ttl';
export const NAMES = { [TTL]: Table.TTL_ATTRIBUTE };

/** In-flight items outlive the Data API's 24-hour maximum run before their TTL starts counting. */
const IN_FLIGHT_SECONDS = 24 * 60 * 60;

/** The TTL (epoch seconds) of a completed statement's item: `ttlDays` after `nowMs`. */
export function completedTtl(nowMs: number, ttlDays: number): number {
  return Math.floor(nowMs / 1000) + ttlDays * 86_400;
}

/** The TTL (epoch seconds) of a statement in flight: the Data API's longest run, then `ttlDays`. */
export function inFlightTtl(nowMs: number, ttlDays: number): number {
  return completedTtl(nowMs, ttlDays) + IN_FLIGHT_SECONDS;
}

export const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** When a statement was registered (ms): `registeredAt`, or the time in a time-based invocation id of an older item. */
export function registeredAtOf(item: Record<string, unknown>): number {
  const registeredAt = item[Table.REGISTERED_AT_ATTRIBUTE];
  if (typeof registeredAt === 'number') return registeredAt;
  const [seconds, fraction = ''] = String(item[Table.SORT_KEY]).split('.');
  return Number(seconds) * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'));
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException
    || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** Runs a conditional write: `true` when it was applied, `false` when its condition did not hold. */
export async function applied(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export class TableBase {
  constructor(protected readonly ddb: DynamoDBDocumentClient, protected readonly tableName: string) {}

  protected key(name: StatementName) {
    return { [Table.PARTITION_KEY]: name.id, [Table.SORT_KEY]: name.invocationId };
  }

  private lockKey(lockId: string) {
    return { [Table.PARTITION_KEY]: lockId, [Table.SORT_KEY]: LOCK_SORT_KEY };
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
