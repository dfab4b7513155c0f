/**
 * The DynamoDB tracking table: one item per started statement (the original's schema) and one item per held singleton
 * lock. Every item carries a TTL, so nothing lives forever.
 *
 * Statement item: `id` (caller id), `invocationId`, `sqlStatement` (truncated), `callback_details` (JSON string, see
 * `callback-details.ts`), `TTL`, `registeredAt` (epoch ms), optional `singletonLock`, `startedBy` (the starting
 * function), `inFlightOf` (the same, while a waiting caller's statement is in flight: the sparse `inFlight` index),
 * `idempotencyKey`; on completion
 * also `completedBy` (the source that claimed it), `completedAt`, `statementId`, `finished_event_details`.
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
  /** Epoch milliseconds. */
  readonly registeredAt: number;
  readonly singletonLock?: string;
  /** The starting function: it can describe the statement for another completer. */
  readonly startedBy?: string;
  /** Whether the starter's reconciler sweeps it (someone waits for a callback): `inFlightOf` is set. */
  readonly reconciled?: boolean;
  /** SHA-256 of the caller's identity (task token, CloudFormation request): a retried start finds its registration. */
  readonly idempotencyKey?: string;
}

/** A registration as read back (a retried start, the reconciler). */
export interface Registration {
  readonly idempotencyKey?: string;
  readonly sqlStatement?: string;
  readonly callbackDetails?: string;
  readonly statementId?: string;
  readonly completedBy?: string;
  readonly registeredAt?: number;
}

/** An in-flight statement as the `inFlight` index returns it. */
export interface InFlightItem {
  readonly key: StatementName;
  readonly registeredAt: number;
  /** `undefined` when the index does not project it (read the item). */
  readonly callbackDetails?: string;
  readonly statementId?: string;
}

/** What the completer learns when it claims a statement's completion. */
export interface ClaimedStatement {
  readonly callbackDetails?: string;
  readonly singletonLock?: string;
  readonly startedBy?: string;
  /** When the statement was registered (epoch ms). */
  readonly registeredAt: number;
  /** The `inFlight` index entry the claim took the item out of (given back with the claim). */
  readonly inFlightOf?: string;
}

export interface Claim {
  /** The claimant: the SQS message id, stable across redeliveries of the same message. */
  readonly owner: string;
  readonly statementId: string;
  readonly event: unknown;
  readonly ttl: number;
  readonly completedAt: string;
  /** Keep the item in the `inFlight` index until `settle` (a reconciler's claim survives a crash before the callback). */
  readonly keepInFlight?: boolean;
}

export interface Lock {
  readonly holder: string;
  readonly leaseExpiresAt: number;
  readonly statementId?: string;
}

const LOCK_SORT_KEY = 'lock';
const TTL = '#ttl';
const NAMES = { [TTL]: Table.TTL_ATTRIBUTE };
const IN_FLIGHT = Table.IN_FLIGHT_ATTRIBUTE;
const REGISTERED_AT = Table.REGISTERED_AT_ATTRIBUTE;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** When a statement was registered (ms): `registeredAt`, or the time in a time-based invocation id of an older item. */
function registeredAtOf(item: Record<string, unknown>): number {
  if (typeof item[REGISTERED_AT] === 'number') return item[REGISTERED_AT];
  const [seconds, fraction = ''] = String(item[Table.SORT_KEY]).split('.');
  return Number(seconds) * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'));
}

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
        [REGISTERED_AT]: item.registeredAt,
        ...item.singletonLock !== undefined ? { singletonLock: item.singletonLock } : {},
        ...item.startedBy !== undefined ? { startedBy: item.startedBy } : {},
        ...item.startedBy !== undefined && item.reconciled ? { [IN_FLIGHT]: item.startedBy } : {},
        ...item.idempotencyKey !== undefined ? { idempotencyKey: item.idempotencyKey } : {},
      },
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': Table.PARTITION_KEY },
    })));
  }

  /** A statement's registration (consistent read); `undefined` when there is none. */
  async readRegistration(name: StatementName): Promise<Registration | undefined> {
    const result = await this.ddb.send(new GetCommand({ TableName: this.tableName, Key: this.key(name), ConsistentRead: true }));
    const item = result.Item;
    if (!item) return undefined;
    return {
      idempotencyKey: text(item.idempotencyKey),
      sqlStatement: text(item.sqlStatement),
      callbackDetails: text(item.callback_details),
      statementId: text(item.statementId),
      completedBy: text(item.completedBy),
      registeredAt: registeredAtOf(item),
    };
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
        // A statement the Data API does not know has no id to record.
        UpdateExpression: `SET completedBy = :owner, completedAt = :at, finished_event_details = :event, ${TTL} = :ttl`
          + (claim.statementId !== '' ? ', statementId = :sid' : '') + (claim.keepInFlight ? '' : ' REMOVE #inFlight'),
        ConditionExpression: 'attribute_exists(callback_details) AND (attribute_not_exists(completedBy) OR completedBy = :owner)',
        ExpressionAttributeNames: { ...NAMES, ...claim.keepInFlight ? {} : { '#inFlight': IN_FLIGHT } },
        ExpressionAttributeValues: {
          ':owner': claim.owner,
          ':at': claim.completedAt,
          ':event': claim.event,
          ':ttl': claim.ttl,
          ...claim.statementId !== '' ? { ':sid': claim.statementId } : {},
        },
        ReturnValues: 'ALL_OLD',
      }));
      const old = result.Attributes ?? {};
      return {
        callbackDetails: text(old.callback_details),
        singletonLock: text(old.singletonLock),
        startedBy: text(old.startedBy),
        registeredAt: registeredAtOf(old),
        inFlightOf: text(old[IN_FLIGHT]),
      };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Gives a claim back after a failed callback, so another copy of the event (or a retry, or the reconciler) can
   * complete it; `inFlightOf` puts it back into the `inFlight` index.
   */
  async releaseClaim(name: StatementName, owner: string, inFlightOf?: string): Promise<void> {
    await applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: `REMOVE completedBy, completedAt${inFlightOf !== undefined ? ' SET #inFlight = :inFlight' : ''}`,
      ConditionExpression: 'completedBy = :owner',
      ...inFlightOf !== undefined ? { ExpressionAttributeNames: { '#inFlight': IN_FLIGHT } } : {},
      ExpressionAttributeValues: { ':owner': owner, ...inFlightOf !== undefined ? { ':inFlight': inFlightOf } : {} },
    })));
  }

  /** Takes a claimed statement out of the `inFlight` index once its claim (`keepInFlight`) has been called back. */
  async settle(name: StatementName, owner: string): Promise<void> {
    await applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: 'REMOVE #inFlight',
      ConditionExpression: 'completedBy = :owner',
      ExpressionAttributeNames: { '#inFlight': IN_FLIGHT },
      ExpressionAttributeValues: { ':owner': owner },
    })));
  }

  /**
   * One page of the statements `starter` started that are still in flight and were registered before `before`
   * (epoch ms), oldest first, from the sparse `inFlight` index.
   */
  async inFlight(starter: string, before: number, limit: number, startKey?: Record<string, unknown>): Promise<{
    items: InFlightItem[]; nextKey?: Record<string, unknown>;
  }> {
    const result = await this.ddb.send(new QueryCommand({
      TableName: this.tableName,
      IndexName: Table.IN_FLIGHT_INDEX,
      KeyConditionExpression: '#inFlight = :starter AND #registeredAt < :before',
      ExpressionAttributeNames: { '#inFlight': IN_FLIGHT, '#registeredAt': REGISTERED_AT },
      ExpressionAttributeValues: { ':starter': starter, ':before': before },
      Limit: limit,
      ExclusiveStartKey: startKey,
    }));
    return {
      items: (result.Items ?? []).map((item) => ({
        key: { id: String(item[Table.PARTITION_KEY]), invocationId: String(item[Table.SORT_KEY]) },
        registeredAt: registeredAtOf(item),
        callbackDetails: text(item.callback_details),
        statementId: text(item.statementId),
      })),
      ...result.LastEvaluatedKey ? { nextKey: result.LastEvaluatedKey } : {},
    };
  }

  /** Records the Data API id of a statement still in flight (found by name), so later sweeps describe it directly. */
  async recordStatementId(name: StatementName, statementId: string): Promise<void> {
    await applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: 'SET statementId = :sid',
      ConditionExpression: 'attribute_exists(callback_details) AND attribute_not_exists(completedBy)',
      ExpressionAttributeValues: { ':sid': statementId },
    })));
  }

  /**
   * The most recent statement registered for a caller id (by `registeredAt`). Reads the caller's items: a retried
   * start reuses its registration, so invocation ids of callers with a task token are not in time order.
   */
  async latestStatement(id: string): Promise<{ invocationId: string; statementId?: string } | undefined> {
    let latest: Record<string, unknown> | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#id = :id',
        ExpressionAttributeNames: { '#id': Table.PARTITION_KEY, '#inv': Table.SORT_KEY, '#registeredAt': REGISTERED_AT },
        ExpressionAttributeValues: { ':id': id },
        ProjectionExpression: '#inv, #registeredAt, statementId',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      for (const item of page.Items ?? []) {
        if (item[Table.SORT_KEY] === LOCK_SORT_KEY) continue;
        if (latest === undefined || registeredAtOf(item) > registeredAtOf(latest)
          || (registeredAtOf(item) === registeredAtOf(latest) && String(item[Table.SORT_KEY]) > String(latest[Table.SORT_KEY]))) {
          latest = item;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (!latest) return undefined;
    return {
      invocationId: String(latest[Table.SORT_KEY]),
      ...typeof latest.statementId === 'string' ? { statementId: latest.statementId } : {},
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
