/**
 * Validation of invocation payloads (pure: no I/O). Every rejection is an `InvalidRequest` that says what is wrong,
 * what was received and what is expected; a rejected request writes nothing and starts nothing.
 */
import { Callback, CloudFormationRequest } from './callback-details';
import { InvalidRequest } from './errors';
import { byteLength } from './plain';
import type { ExportTarget } from './result-export';
import { SessionRequest, sessionOf } from './session-request';
import {
  Action, Defaults, EXECUTION_MODES, EXPORT_FORMATS, ExecutionModeName, ExportFormatName, Field, LATEST, Limits, PARAMETER_NAME,
  ROW_FORMATS, RowFormatName, show,
} from '../src/contract';

const { MAX_SQL_BYTES, MAX_BATCH_STATEMENTS } = Limits;

/** Step Functions' limit for a task token. */
export const MAX_TASK_TOKEN_LENGTH = 2048;
/** Longest caller id (execution ARN) that still leaves room for the invocation id in a 500-character name. */
export const MAX_EXECUTION_ARN_LENGTH = 450;

/** The six fields that make an event a CloudFormation custom-resource request. */
export const CLOUDFORMATION_FIELDS = [
  'RequestType', 'ResponseURL', 'StackId', 'RequestId', 'ResourceType', 'LogicalResourceId',
] as const;

export interface SqlParameter {
  readonly name: string;
  readonly value: string;
}

export interface ExecuteRequest {
  readonly type: 'execute';
  /** One statement (`ExecuteStatement`) or several (`BatchExecuteStatement`). */
  readonly sql: string | readonly string[];
  readonly parameters?: readonly SqlParameter[];
  /** How several statements run: one transaction (the Data API's default) or each committing on its own. */
  readonly executionMode?: ExecutionModeName;
  /** The Data API session: one to open (`keepAliveSeconds` alone), or one to run in (`id`). */
  readonly session?: SessionRequest;
  readonly singleton: boolean;
  readonly callback: Callback;
  /** Recorded as the caller id so `LATEST` finds the statement, with or without a task token. */
  readonly executionArn?: string;
}

export interface StatementRequest {
  readonly type: 'describeStatement' | 'getStatementResult' | 'cancelStatement' | 'exportResult';
  /** A Data API statement id or `LATEST`. */
  readonly statementId: string;
  readonly executionArn?: string;
  readonly nextToken?: string;
  /** `getStatementResult`: the page's rows as plain objects or as the Data API's typed fields (the default). */
  readonly rowFormat?: RowFormatName;
  /** `exportResult`: where to write the result. */
  readonly export?: ExportTarget;
}

export interface CompletionRequest {
  readonly type: 'completion';
  readonly records: readonly unknown[];
}

export interface ReconcileRequest {
  readonly type: 'reconcile';
  /** Only statements registered at least this many seconds ago. */
  readonly olderThanSeconds: number;
}

export type Request = ExecuteRequest | StatementRequest | CompletionRequest | ReconcileRequest;

/** Longest `olderThanSeconds`: statements live at most 24 hours in the Data API, and their items a few days more. */
export const MAX_OLDER_THAN_SECONDS = 7 * 86_400;

/** What a value is, without showing it (for values that may be secret: task tokens, parameter values). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(event: Record<string, unknown>, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(event, field) && event[field] !== undefined;
}

/** One statement's SQL: a non-empty string of at most 100,000 bytes. */
export function sqlText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidRequest(`${what} must be a non-empty string of SQL; got ${show(value)}.`);
  }
  if (byteLength(value) > MAX_SQL_BYTES) {
    throw new InvalidRequest(
      `${what} is ${byteLength(value)} bytes; the Data API accepts at most ${MAX_SQL_BYTES} bytes per statement. `
      + 'Split it into several statements, or use a stored procedure or a view.');
  }
  return value;
}

function optionalString(
  event: Record<string, unknown>, field: string, maxLength: number, what: string, secret = false,
): string | undefined {
  if (!has(event, field)) return undefined;
  const value = event[field];
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new InvalidRequest(`${field} must be a non-empty string of at most ${maxLength} characters (${what}); got `
      + `${secret ? describeType(value) : show(value)}.`);
  }
  return value;
}

/**
 * The CloudFormation request carried by an event with all six custom-resource fields as strings, else `undefined`.
 * Its `ResponseURL` is only returned when it is an http(s) URL, so a reply is possible.
 */
export function cloudFormationRequest(event: unknown): CloudFormationRequest | undefined {
  if (!isObject(event)) return undefined;
  if (!CLOUDFORMATION_FIELDS.every((field) => typeof event[field] === 'string' && event[field] !== '')) return undefined;
  try {
    const url = new URL(event.ResponseURL as string);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  } catch {
    return undefined;
  }
  const physical = event.PhysicalResourceId;
  const properties = isObject(event.ResourceProperties) ? event.ResourceProperties : {};
  const serviceTimeout = Number(properties.ServiceTimeout);
  const attempt = event[Field.CONFLICT_ATTEMPT];
  return {
    RequestType: event.RequestType as string,
    ResponseURL: event.ResponseURL as string,
    StackId: event.StackId as string,
    RequestId: event.RequestId as string,
    ResourceType: event.ResourceType as string,
    LogicalResourceId: event.LogicalResourceId as string,
    ...typeof physical === 'string' && physical !== '' ? { PhysicalResourceId: physical } : {},
    ...Number.isInteger(serviceTimeout) && serviceTimeout >= 1 && serviceTimeout <= 3600 ? { ServiceTimeout: serviceTimeout } : {},
    ...typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1 && attempt <= Defaults.CONFLICT_RERUNS
      ? { ConflictAttempt: attempt } : {},
  };
}

/** Who waits for the statement: CloudFormation, a Step Functions task, or nobody. */
export function callbackOf(event: Record<string, unknown>): Callback {
  const cfn = cloudFormationRequest(event);
  if (cfn) {
    if (!['Create', 'Update', 'Delete'].includes(cfn.RequestType)) {
      throw new InvalidRequest(`RequestType must be Create, Update or Delete; got ${show(cfn.RequestType)}.`);
    }
    if (cfn.RequestType !== 'Create' && cfn.PhysicalResourceId === undefined) {
      throw new InvalidRequest(`A CloudFormation ${cfn.RequestType} request needs PhysicalResourceId; got ${show(event.PhysicalResourceId)}.`);
    }
    return { kind: 'cloudFormation', request: cfn };
  }
  if (CLOUDFORMATION_FIELDS.every((field) => has(event, field))) {
    throw new InvalidRequest(
      `The CloudFormation fields (${CLOUDFORMATION_FIELDS.join(', ')}) must be non-empty strings and ResponseURL an http(s) URL; `
      + `got ResponseURL ${show(event.ResponseURL)}.`);
  }
  const taskToken = optionalString(event, Field.TASK_TOKEN, MAX_TASK_TOKEN_LENGTH, 'the Step Functions task token, $$.Task.Token', true);
  const executionArn = optionalString(event, Field.EXECUTION_ARN, MAX_EXECUTION_ARN_LENGTH, 'the execution ARN, $$.Execution.Id');
  if (taskToken !== undefined) {
    if (executionArn === undefined) {
      throw new InvalidRequest(
        `${Field.TASK_TOKEN} was given without ${Field.EXECUTION_ARN}; a Step Functions callback needs both. Add `
        + `"${Field.EXECUTION_ARN}.$": "$$.Execution.Id" to the task's payload.`);
    }
    return { kind: 'stepFunctions', taskToken, executionArn };
  }
  return { kind: 'none' };
}

function parameters(value: unknown): SqlParameter[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequest(`${Field.PARAMETERS} must be a non-empty array of {name, value}; got ${show(value)}.`);
  }
  const names = new Set<string>();
  return value.map((parameter, index) => {
    if (!isObject(parameter)) {
      throw new InvalidRequest(`${Field.PARAMETERS}[${index}] must be an object {name, value}; got ${show(parameter)}.`);
    }
    const { name } = parameter;
    let paramValue = parameter.value;
    if (typeof name !== 'string' || !PARAMETER_NAME.test(name)) {
      throw new InvalidRequest(
        `${Field.PARAMETERS}[${index}].name must be an identifier (letters, digits, underscore; used as :name in the SQL); got ${show(name)}.`);
    }
    if (names.has(name)) {
      throw new InvalidRequest(`${Field.PARAMETERS}[${index}].name ${show(name)} is given twice; each parameter name must be unique.`);
    }
    names.add(name);
    if ((typeof paramValue === 'number' && Number.isFinite(paramValue)) || typeof paramValue === 'boolean') {
      paramValue = String(paramValue);
    }
    if (typeof paramValue !== 'string' || paramValue === '') {
      throw new InvalidRequest(
        `${Field.PARAMETERS}[${index}].value (${name}) must be a non-empty string, number or boolean (the Data API `
        + `has no NULL or empty parameter values; write NULL in the SQL instead); got ${describeType(paramValue)}.`);
    }
    return { name, value: paramValue };
  });
}

/** `rowFormat`: `OBJECTS` or `TYPED_CELLS`; `undefined` when absent. */
export function rowFormatOf(event: Record<string, unknown>): RowFormatName | undefined {
  if (!has(event, Field.ROW_FORMAT)) return undefined;
  const value = event[Field.ROW_FORMAT];
  if (typeof value !== 'string' || !(ROW_FORMATS as readonly string[]).includes(value)) {
    throw new InvalidRequest(`${Field.ROW_FORMAT} must be ${ROW_FORMATS.map((format) => `"${format}"`).join(' or ')}; got ${show(value)}.`);
  }
  return value as RowFormatName;
}

/** S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `exportBucket`, `exportKeyPrefix`, `exportFormat`: where a result is written; `undefined` without `exportBucket`. */
export function exportTargetOf(event: Record<string, unknown>): ExportTarget | undefined {
  if (!has(event, Field.EXPORT_BUCKET)) {
    for (const field of [Field.EXPORT_KEY_PREFIX, Field.EXPORT_FORMAT]) {
      if (has(event, field)) throw new InvalidRequest(`${field} needs ${Field.EXPORT_BUCKET}; got ${field} without it.`);
    }
    return undefined;
  }
  const bucket = event[Field.EXPORT_BUCKET];
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) {
    throw new InvalidRequest(`${Field.EXPORT_BUCKET} must be an S3 bucket name; got ${show(bucket)}.`);
  }
  const keyPrefix = has(event, Field.EXPORT_KEY_PREFIX) ? event[Field.EXPORT_KEY_PREFIX] : '';
  if (typeof keyPrefix !== 'string' || keyPrefix.length > Limits.MAX_EXPORT_KEY_PREFIX_LENGTH || keyPrefix.startsWith('/')) {
    throw new InvalidRequest(`${Field.EXPORT_KEY_PREFIX} must be a string of at most ${Limits.MAX_EXPORT_KEY_PREFIX_LENGTH} `
      + `characters that does not start with "/"; got ${show(keyPrefix)}.`);
  }
  const format = has(event, Field.EXPORT_FORMAT) ? event[Field.EXPORT_FORMAT] : 'JSON_LINES';
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidRequest(`${Field.EXPORT_FORMAT} must be ${EXPORT_FORMATS.map((f) => `"${f}"`).join(' or ')}; got ${show(format)}.`);
  }
  return { bucket, keyPrefix, format: format as ExportFormatName };
}

/** `executionMode`: `TRANSACTION` or `AUTO_COMMIT`, only with a list of statements. */
export function executionModeOf(
  event: Record<string, unknown>, isList: boolean, field: string = Field.EXECUTION_MODE,
): ExecutionModeName | undefined {
  if (!has(event, field)) return undefined;
  const value = event[field];
  if (!isList) {
    throw new InvalidRequest(`${field} is only for a list of statements (BatchExecuteStatement); got it with one statement. `
      + 'Remove it, or give the SQL as a list.');
  }
  if (typeof value !== 'string' || !(EXECUTION_MODES as readonly string[]).includes(value)) {
    throw new InvalidRequest(`${field} must be ${EXECUTION_MODES.map((mode) => `"${mode}"`).join(' or ')}; got ${show(value)}.`);
  }
  return value as ExecutionModeName;
}

function executeRequest(event: Record<string, unknown>): ExecuteRequest {
  const action = event[Field.ACTION];
  if (action !== undefined && action !== Action.EXECUTE_STATEMENT && action !== Action.EXECUTE_SINGLETON_STATEMENT) {
    throw new InvalidRequest(
      `Unsupported ${Field.ACTION} ${show(action)} with SQL; expected "${Action.EXECUTE_STATEMENT}" (the default) or `
      + `"${Action.EXECUTE_SINGLETON_STATEMENT}".`);
  }
  if (has(event, Field.SQL_STATEMENT) && has(event, Field.SQL_STATEMENTS)) {
    throw new InvalidRequest(
      `Give either ${Field.SQL_STATEMENT} (one statement) or ${Field.SQL_STATEMENTS} (a transaction of several), not both.`);
  }
  let sql: string | string[];
  if (has(event, Field.SQL_STATEMENTS)) {
    const list = event[Field.SQL_STATEMENTS];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_STATEMENTS) {
      throw new InvalidRequest(
        `${Field.SQL_STATEMENTS} must be an array of 1 to ${MAX_BATCH_STATEMENTS} SQL strings (run as one transaction); `
        + `got ${Array.isArray(list) ? `${list.length} items` : show(list)}.`);
    }
    sql = list.map((item, index) => sqlText(item, `${Field.SQL_STATEMENTS}[${index}]`));
  } else {
    sql = sqlText(event[Field.SQL_STATEMENT], Field.SQL_STATEMENT);
  }
  const executionMode = executionModeOf(event, typeof sql !== 'string');
  const session = sessionOf(event);
  const rowFormat = rowFormatOf(event);
  let callback = callbackOf(event);
  if (rowFormat !== undefined) {
    if (callback.kind !== 'stepFunctions') {
      throw new InvalidRequest(`${Field.ROW_FORMAT} with SQL returns the rows with the Step Functions callback; got it `
        + `without a ${Field.TASK_TOKEN}${callback.kind === 'cloudFormation' ? ' (a CloudFormation request)' : ''}. Add the task `
        + `token ("${Field.TASK_TOKEN}.$": "$$.Task.Token"), or read the rows with "${Action.GET_STATEMENT_RESULT}".`);
    }
    callback = { ...callback, rowFormat };
  }
  const exportTarget = exportTargetOf(event);
  if (exportTarget !== undefined) {
    if (callback.kind !== 'stepFunctions') {
      throw new InvalidRequest(`${Field.EXPORT_BUCKET} with SQL writes the result before the Step Functions callback; got it `
        + `without a ${Field.TASK_TOKEN}. Add the task token, or export a finished statement with "${Action.EXPORT_RESULT}".`);
    }
    if (rowFormat !== undefined) {
      throw new InvalidRequest(`Give either ${Field.ROW_FORMAT} (the rows in the output) or ${Field.EXPORT_BUCKET} (the result in `
        + 'S3); got both.');
    }
    callback = { ...callback, export: exportTarget };
  }
  const executionArn = callback.kind === 'stepFunctions'
    ? callback.executionArn
    : optionalString(event, Field.EXECUTION_ARN, MAX_EXECUTION_ARN_LENGTH, 'the execution ARN, $$.Execution.Id');
  return {
    type: 'execute',
    sql,
    ...has(event, Field.PARAMETERS) ? { parameters: parameters(event[Field.PARAMETERS]) } : {},
    ...executionMode !== undefined ? { executionMode } : {},
    ...session !== undefined ? { session } : {},
    singleton: action === Action.EXECUTE_SINGLETON_STATEMENT,
    callback,
    ...executionArn !== undefined ? { executionArn } : {},
  };
}

function statementRequest(event: Record<string, unknown>, type: StatementRequest['type']): StatementRequest {
  const statementId = event[Field.STATEMENT_ID];
  if (typeof statementId !== 'string' || statementId === '' || statementId.length > 128) {
    throw new InvalidRequest(
      `${Field.STATEMENT_ID} must be a Data API statement id or "${LATEST}"; got ${show(statementId)}.`);
  }
  const executionArn = optionalString(event, Field.EXECUTION_ARN, MAX_EXECUTION_ARN_LENGTH, 'the execution ARN, $$.Execution.Id');
  if (statementId === LATEST && executionArn === undefined) {
    throw new InvalidRequest(
      `${Field.STATEMENT_ID} "${LATEST}" needs ${Field.EXECUTION_ARN} to know whose latest statement to use; add `
      + `"${Field.EXECUTION_ARN}.$": "$$.Execution.Id".`);
  }
  let nextToken: string | undefined;
  if (has(event, Field.NEXT_TOKEN) && event[Field.NEXT_TOKEN] !== null) {
    if (type !== 'getStatementResult') {
      throw new InvalidRequest(`${Field.NEXT_TOKEN} is only used with "${Action.GET_STATEMENT_RESULT}"; got it with ${show(type)}.`);
    }
    nextToken = optionalString(event, Field.NEXT_TOKEN, 100_000, 'the NextToken of the previous page');
  }
  const rowFormat = rowFormatOf(event);
  if (rowFormat !== undefined && type !== 'getStatementResult') {
    throw new InvalidRequest(`${Field.ROW_FORMAT} is only used with "${Action.GET_STATEMENT_RESULT}"; got it with ${show(type)}.`);
  }
  const exportTarget = exportTargetOf(event);
  if ((exportTarget !== undefined) !== (type === 'exportResult')) {
    throw new InvalidRequest(type === 'exportResult'
      ? `"${Action.EXPORT_RESULT}" needs ${Field.EXPORT_BUCKET}; got none.`
      : `${Field.EXPORT_BUCKET} is only used with "${Action.EXPORT_RESULT}" or a start; got it with ${show(type)}.`);
  }
  return {
    type,
    statementId,
    ...executionArn !== undefined ? { executionArn } : {},
    ...nextToken !== undefined ? { nextToken } : {},
    ...rowFormat !== undefined ? { rowFormat } : {},
    ...exportTarget !== undefined ? { export: exportTarget } : {},
  };
}

const STATEMENT_ACTIONS: Record<string, StatementRequest['type']> = {
  [Action.DESCRIBE_STATEMENT]: 'describeStatement',
  [Action.GET_STATEMENT_RESULT]: 'getStatementResult',
  [Action.CANCEL_STATEMENT]: 'cancelStatement',
  [Action.EXPORT_RESULT]: 'exportResult',
};

function reconcileRequest(event: Record<string, unknown>): ReconcileRequest {
  const value = event[Field.OLDER_THAN_SECONDS];
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_OLDER_THAN_SECONDS)) {
    throw new InvalidRequest(
      `${Field.OLDER_THAN_SECONDS} must be a whole number of seconds from 0 to ${MAX_OLDER_THAN_SECONDS}; got ${show(value)}.`);
  }
  return { type: 'reconcile', olderThanSeconds: value ?? Defaults.RECONCILE_OLDER_THAN_SECONDS };
}

/**
 * Routes and validates an invocation event (first match wins): `Records` → completion batch; `sqlStatement` /
 * `sqlStatements` → execute; `statementId` + `action` → describe, result or cancel; `action: "reconcile"` → a
 * reconciler sweep.
 * @throws InvalidRequest for anything else
 */
export function parseRequest(event: unknown): Request {
  if (!isObject(event)) {
    throw new InvalidRequest(`The invocation event must be a JSON object; got ${show(event)}.`);
  }
  if (has(event, 'Records')) {
    if (!Array.isArray(event.Records)) {
      throw new InvalidRequest(`Records must be the array of an SQS batch; got ${show(event.Records)}.`);
    }
    return { type: 'completion', records: event.Records };
  }
  if (has(event, Field.SQL_STATEMENT) || has(event, Field.SQL_STATEMENTS)) {
    return executeRequest(event);
  }
  if (has(event, Field.STATEMENT_ID)) {
    const action = event[Field.ACTION];
    const type = typeof action === 'string' ? STATEMENT_ACTIONS[action] : undefined;
    if (type === undefined) {
      throw new InvalidRequest(
        `Unsupported ${Field.ACTION} ${show(action)} with ${Field.STATEMENT_ID}; expected one of `
        + `${Object.keys(STATEMENT_ACTIONS).map((a) => `"${a}"`).join(', ')}.`);
    }
    return statementRequest(event, type);
  }
  if (event[Field.ACTION] === Action.RECONCILE) return reconcileRequest(event);
  throw new InvalidRequest(
    `Unsupported invocation: expected ${Field.SQL_STATEMENT} or ${Field.SQL_STATEMENTS} (to run SQL), `
    + `${Field.STATEMENT_ID} with ${Field.ACTION} (describeStatement, getStatementResult, cancelStatement), or `
    + `${Field.ACTION} "${Action.RECONCILE}"; got the fields ${show(Object.keys(event))}.`);
}
