/**
 * The DynamoDB tracking table: one item per started statement (the original's schema) and one item per held singleton
 * lock (`table-base.ts`). Every item carries a TTL, so nothing lives forever.
 *
 * Statement item: `id` (caller id), `invocationId`, `sqlStatement` (truncated), `requestHash` (SHA-256 of the whole
 * request), `callback_details` (JSON string, see `callback-details.ts`), `TTL`, `registeredAt` (epoch ms), optional
 * `singletonLock`, `startedBy` (the starting function), `inFlightOf` (the same, while a waiting caller's statement is
 * in flight: the sparse `inFlight` index), `idempotencyKey`; `statementId`, recorded right after the start (every
 * completion must carry it). A completion is claimed by one attempt: `claimedBy` (the attempt), `leaseUntil` (epoch
 * ms), `claimDelivery` (the EventBridge id of an event's claim); once called back, `completedBy`, `completedAt`,
 * `finished_event_details`. See `claim.ts` for the claim's states.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ClaimTable } from './claim';
import { StatementName } from './statement-name';
import { LOCK_SORT_KEY, applied, registeredAtOf, text } from './table-base';
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
  /** SHA-256 of the whole request (SQL, parameters, singleton): a retried start must send the same one. */
  readonly requestHash?: string;
  /** How a list runs (`TRANSACTION`, `AUTO_COMMIT`), when the request says. */
  readonly executionMode?: string;
  /** The Data API session it is sent to (`sessionId` of the request). */
  readonly sessionId?: string;
}

/** A registration as read back (a retried start, the reconciler). */
export interface Registration {
  readonly idempotencyKey?: string;
  readonly requestHash?: string;
  readonly sqlStatement?: string;
  readonly callbackDetails?: string;
  readonly statementId?: string;
  readonly completedBy?: string;
  readonly registeredAt?: number;
  readonly startedBy?: string;
}

/** An in-flight statement as the `inFlight` index returns it. */
export interface InFlightItem {
  readonly key: StatementName;
  readonly registeredAt: number;
  /** `undefined` when the index does not project it (read the item). */
  readonly callbackDetails?: string;
  readonly statementId?: string;
}

const IN_FLIGHT = Table.IN_FLIGHT_ATTRIBUTE;
const REGISTERED_AT = Table.REGISTERED_AT_ATTRIBUTE;

export class TrackingTable extends ClaimTable {
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
        ...item.requestHash !== undefined ? { requestHash: item.requestHash } : {},
        ...item.executionMode !== undefined ? { executionMode: item.executionMode } : {},
        ...item.sessionId !== undefined ? { sessionId: item.sessionId } : {},
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
      requestHash: text(item.requestHash),
      sqlStatement: text(item.sqlStatement),
      callbackDetails: text(item.callback_details),
      statementId: text(item.statementId),
      completedBy: text(item.completedBy),
      registeredAt: registeredAtOf(item),
      startedBy: text(item.startedBy),
    };
  }

  /** Removes the registration of a statement that could not be started (so `LATEST` never points at it). */
  async unregister(name: StatementName): Promise<void> {
    await this.ddb.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(name) }));
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

  /**
   * Records the Data API id of the statement started under a registered name (right after the start, or when a sweep
   * or the starter found it by name). `false` when another id is recorded already (the name was not ours to reuse).
   */
  async recordStatementId(name: StatementName, statementId: string, sessionId?: string): Promise<boolean> {
    return applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: sessionId !== undefined ? 'SET statementId = :sid, sessionId = :session' : 'SET statementId = :sid',
      ConditionExpression: 'attribute_exists(callback_details) AND (attribute_not_exists(statementId) OR statementId = :sid)',
      ExpressionAttributeValues: { ':sid': statementId, ...sessionId !== undefined ? { ':session': sessionId } : {} },
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
}
