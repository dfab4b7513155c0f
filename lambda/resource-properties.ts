/**
 * A custom resource whose service token is the tasker's function itself (`RedshiftSql`, or `Custom::RedshiftSql` in a
 * template): CloudFormation's request, as CloudFormation sends it, with the SQL of each request type in the resource
 * properties (pure: no I/O). See "CloudFormation" in lambda/README.md for the properties and their semantics.
 *
 * - Create runs `OnCreate` (required). Update runs `OnUpdate`, or no SQL without it. Delete runs `OnDelete`, or no
 *   SQL without it. Each is one statement or a list (`BatchExecuteStatement`: one transaction, or with
 *   `ExecutionMode: AUTO_COMMIT` each statement committing on its own).
 * - `Parameters` (name → value) go to the request type's SQL that names them (`:name`), a statement or a list.
 * - Unknown properties are refused (a misspelt `OnDelete` must not be ignored until the stack is deleted).
 */
import { CloudFormationRequest } from './callback-details';
import { InvalidRequest } from './errors';
import { ExecuteRequest, SqlParameter, callbackOf, cloudFormationRequest, executionModeOf, sqlText } from './request';
import { CLOUDFORMATION_PROPERTIES, Limits, PARAMETER_NAME, ResourceProperty, show } from '../src/contract';
import { namedParameters } from '../src/private/sql-parameters';

/** A request the tasker answers at once, without SQL (an Update without `OnUpdate`, a Delete without `OnDelete`). */
export interface NoSqlRequest {
  readonly type: 'noSql';
  readonly request: CloudFormationRequest;
  readonly reason: string;
}

const SQL_PROPERTY = { Create: ResourceProperty.ON_CREATE, Update: ResourceProperty.ON_UPDATE, Delete: ResourceProperty.ON_DELETE } as const;
const KNOWN = [...Object.values(ResourceProperty), ...CLOUDFORMATION_PROPERTIES];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether an event is such a request: a CloudFormation custom-resource request with `ResourceProperties` and no SQL
 * of its own (a custom-resource function that forwards the request with `sqlStatement` uses the execute request).
 */
export function isResourcePropertiesRequest(event: unknown): event is Record<string, unknown> {
  return isObject(event) && isObject(event.ResourceProperties) && cloudFormationRequest(event) !== undefined
    && event.sqlStatement === undefined && event.sqlStatements === undefined;
}

/** A statement, or a list of 1 to 40 run as one transaction. */
function statements(value: unknown, name: string): string | string[] {
  if (typeof value === 'string') return sqlText(value, name);
  if (!Array.isArray(value) || value.length === 0 || value.length > Limits.MAX_BATCH_STATEMENTS) {
    throw new InvalidRequest(`${name} must be one SQL statement, or a list of 1 to ${Limits.MAX_BATCH_STATEMENTS} run as `
      + `one transaction; got ${Array.isArray(value) ? `${value.length} items` : show(value)}.`);
  }
  return value.length === 1 ? sqlText(value[0], `${name}[0]`) : value.map((item, index) => sqlText(item, `${name}[${index}]`));
}

/** `Parameters`: name → a non-empty string (CloudFormation passes numbers and booleans as strings). */
function parameterMap(value: unknown): SqlParameter[] {
  const name = ResourceProperty.PARAMETERS;
  if (!isObject(value) || Object.keys(value).length === 0) {
    throw new InvalidRequest(`${name} must be a map of parameter names to values, e.g. { "region": "EMEA" }; got ${show(value)}.`);
  }
  return Object.entries(value).map(([key, item]) => {
    if (!PARAMETER_NAME.test(key)) {
      throw new InvalidRequest(`${name} has the name ${show(key)}; a parameter name is a letter or underscore, then `
        + 'letters, digits or underscores (used as :name in the SQL).');
    }
    const text = typeof item === 'number' || typeof item === 'boolean' ? String(item) : item;
    if (typeof text !== 'string' || text === '') {
      throw new InvalidRequest(`${name}.${key} must be a non-empty string (the Data API has no NULL or empty parameter `
        + `values; write NULL in the SQL instead); got ${show(item)}.`);
    }
    return { name: key, value: text };
  });
}

/** The parameters the request type's SQL names (a statement, or any statement of a list). */
function parametersFor(sql: string | string[], parameters: SqlParameter[] | undefined): SqlParameter[] | undefined {
  if (parameters === undefined) return undefined;
  const used = new Set((typeof sql === 'string' ? [sql] : sql).flatMap(namedParameters));
  const bound = parameters.filter((parameter) => used.has(parameter.name));
  return bound.length > 0 ? bound : undefined;
}

/**
 * The execute request for the request type's SQL, or the answer without SQL.
 * @throws InvalidRequest for invalid properties (the tasker answers CloudFormation FAILED with the message)
 */
export function resourceRequest(event: Record<string, unknown>): ExecuteRequest | NoSqlRequest {
  const callback = callbackOf(event);
  if (callback.kind !== 'cloudFormation') throw new InvalidRequest('Not a CloudFormation request.');
  const requestType = callback.request.RequestType as keyof typeof SQL_PROPERTY;
  const properties = event.ResourceProperties as Record<string, unknown>;
  // Create and Update check every property, so that a misspelt or invalid one fails them, not the stack's deletion;
  // Delete reads only what it runs.
  const checked = requestType === 'Delete' ? [ResourceProperty.ON_DELETE] : Object.values(SQL_PROPERTY);
  if (requestType !== 'Delete') {
    const unknown = Object.keys(properties).filter((key) => !KNOWN.includes(key));
    if (unknown.length > 0) {
      throw new InvalidRequest(`Unknown resource propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((key) => show(key)).join(', ')}; `
        + `the properties are ${Object.values(ResourceProperty).join(', ')}.`);
    }
    if (properties[ResourceProperty.ON_CREATE] === undefined) {
      throw new InvalidRequest(`${ResourceProperty.ON_CREATE} is required: the SQL run when the resource is created.`);
    }
  }
  const sql = Object.fromEntries(checked
    .filter((property) => properties[property] !== undefined)
    .map((property) => [property, statements(properties[property], property)]));
  const parameters = properties[ResourceProperty.PARAMETERS] === undefined ? undefined : parameterMap(properties[ResourceProperty.PARAMETERS]);
  const name = SQL_PROPERTY[requestType];
  const own = sql[name];
  if (own === undefined) {
    return { type: 'noSql', request: callback.request, reason: `${requestType} runs no SQL: the resource has no ${name}.` };
  }
  const bound = parametersFor(own, parameters);
  const executionMode = typeof own === 'string' ? undefined : executionModeOf(properties, true, ResourceProperty.EXECUTION_MODE);
  const attributes = properties[ResourceProperty.RESULT_ATTRIBUTES];
  if (attributes !== undefined && attributes !== 'true' && attributes !== 'false' && typeof attributes !== 'boolean') {
    throw new InvalidRequest(`${ResourceProperty.RESULT_ATTRIBUTES} must be "true" or "false"; got ${show(attributes)}.`);
  }
  // Only Create and Update answer with attributes (a Delete's answer has none that anything reads).
  const resultAttributes = requestType !== 'Delete' && String(attributes) === 'true';
  return {
    type: 'execute',
    sql: own,
    ...bound !== undefined ? { parameters: bound } : {},
    ...executionMode ? { executionMode } : {},
    singleton: false,
    callback: resultAttributes ? { ...callback, resultAttributes } : callback,
  };
}
