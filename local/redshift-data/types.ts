/** Shapes and limits of the Data API stand-in (the service's names, as the SDK reads them). */
import type { StatementResult } from './results';

/** Limits of the Data API the stand-in enforces. */
export const DataApiLimits = {
  SQL_CHARS: 100_000,
  BATCH_SQLS: 40,
  STATEMENT_NAME_CHARS: 500,
  LIST_MAX_RESULTS: 100,
  /** Statements and their results are kept 24 hours (`expireAt` in the event); after that they do not exist. */
  RETENTION_SECONDS: 24 * 3600,
  /** Longest `WaitTimeSeconds`. */
  MAX_WAIT_SECONDS: 30,
  CLIENT_TOKEN_CHARS: 64,
} as const;

export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';
export const STATUSES: readonly string[] = ['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED', 'FAILED', 'ABORTED', 'ALL'];
export const FINAL: readonly string[] = ['FINISHED', 'FAILED', 'ABORTED'];

/** The Data API's `Field` union. */
export type DataApiField =
  | { isNull: true } | { stringValue: string } | { longValue: number } | { doubleValue: number } | { booleanValue: boolean };

/** The Data API's `ColumnMetadata`. */
export interface DataApiColumn {
  isCaseSensitive: boolean;
  isCurrency: boolean;
  isSigned: boolean;
  label: string;
  name: string;
  nullable: number;
  precision: number;
  scale: number;
  schemaName: string;
  tableName: string;
  typeName: string;
  length: number;
}

/** The "Redshift Data Statement Status Change" EventBridge event. */
export interface StatusChangeEvent {
  'version': '0';
  'id': string;
  'detail-type': string;
  'source': string;
  'account': string;
  'time': string;
  'region': string;
  'resources': string[];
  'detail': {
    principal: string;
    statementName: string;
    statementId: string;
    redshiftQueryId: number;
    state: 'FINISHED' | 'FAILED' | 'ABORTED';
    rows: number;
    expireAt: number;
  };
}

/** Who called: the SigV4 access key id stands for the IAM role, the session token for the IAM session. */
export interface Caller {
  readonly accessKeyId: string;
  readonly sessionToken: string;
  readonly region: string;
  readonly principal: string;
}

/** A statement (or a sub-statement of a batch) as the stand-in tracks it. */
export interface StatementRecord {
  readonly id: string;
  readonly parent?: StatementRecord;
  readonly queryString: string;
  readonly parameters?: ReadonlyArray<{ name: string; value: string }>;
  readonly statementName?: string;
  readonly clusterIdentifier?: string;
  readonly workgroupName?: string;
  readonly database: string;
  readonly dbUser?: string;
  readonly secretArn?: string;
  readonly withEvent: boolean;
  readonly caller: Caller;
  readonly createdAt: Date;
  readonly subStatements: StatementRecord[];
  readonly isBatch: boolean;
  /** A batch's `ExecutionMode`: one transaction (the default), or each statement committing on its own. */
  readonly executionMode?: 'TRANSACTION' | 'AUTO_COMMIT';
  /** The session it runs in (it opened it, or named it). */
  readonly sessionId?: string;
  status: StatementStatus;
  updatedAt: Date;
  error?: string;
  /** Nanoseconds the statement ran (-1 until it ends). */
  duration: number;
  hasResultSet: boolean;
  resultRows: number;
  resultSize: number;
  redshiftQueryId: number;
  redshiftPid: number;
  /** The result of a FINISHED statement with a result set, served page by page. */
  result?: StatementResult;
  /** Every status with the time it was entered. */
  readonly history: Array<{ status: StatementStatus; at: Date }>;
  /** For cancelled statements: when CancelStatement arrived. */
  cancelRequestedAt?: Date;
}

/** What a fault injector sees of a call. */
export interface DataApiCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  readonly accessKeyId: string;
}

/** A service error: its name (`__type`), message and HTTP status. */
export class ApiError extends Error {
  constructor(readonly errorName: string, message: string, readonly status = 400, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export const validation = (message: string) => new ApiError('ValidationException', message);

/** `ResourceNotFoundException` for an unknown (or expired) statement id. */
export const notFound = (id: string) => new ApiError('ResourceNotFoundException', 'Query does not exist.', 404, { ResourceId: id });
