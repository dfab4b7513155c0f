/**
 * Synth-time validation of the SQL the tasks and the custom resource carry. Values that are unresolved tokens
 * (JSONPath, CloudFormation) or JSONata expressions (`{% ... %}`) are only known when the state or the resource runs,
 * so they are skipped; every other problem says what is wrong, the value received and the fix, and all problems of
 * one construct are reported together.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { namedParameters } from './sql-parameters';
import { EXECUTION_MODES, Limits, PARAMETER_NAME, ROW_FORMATS, SESSION_ID, show } from '../contract';

const { MAX_SQL_BYTES, MAX_BATCH_STATEMENTS } = Limits;

/** Whether a string is a JSONata expression (`{% ... %}`), evaluated when the state runs. */
export function isJsonataExpression(value: string): boolean {
  return /^\s*\{%[\s\S]*%\}\s*$/.test(value);
}

/** Whether a value is known at synth time (not a token, not a JSONata expression). */
export function isLiteral(value: string): boolean {
  return !Token.isUnresolved(value) && !isJsonataExpression(value);
}

/** One SQL statement: not empty, at most the Data API's 100,000 bytes. */
export function checkSql(name: string, sql: unknown, errors: string[]): void {
  if (typeof sql !== 'string') {
    errors.push(`${name} must be a string of SQL; got ${show(sql)}. Give the statement as a string ('select 1', say).`);
    return;
  }
  if (!isLiteral(sql)) return;
  if (sql.trim() === '') {
    errors.push(`${name} must be one SQL statement; got an empty string. Give the statement to run.`);
    return;
  }
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > MAX_SQL_BYTES) {
    errors.push(`${name} is too long: the Redshift Data API accepts at most ${MAX_SQL_BYTES} bytes per statement; got `
      + `${bytes} bytes. Split it into several statements, or use a stored procedure or a view.`);
  }
}

/** A list of statements run as one transaction: 1 to 40 statements, each valid. */
export function checkStatementList(name: string, list: readonly string[], errors: string[]): void {
  if (!Array.isArray(list)) {
    errors.push(`${name} must be a list of SQL statements, even for one statement; got ${show(list)}. Wrap it in a list: `
      + `${name}: [${typeof list === 'string' ? show(list) : '\'select 1\''}].`);
    return;
  }
  if (Token.isUnresolved(list)) return;
  if (list.length === 0 || list.length > MAX_BATCH_STATEMENTS) {
    errors.push(`${name} must hold 1 to ${MAX_BATCH_STATEMENTS} statements (run as one transaction); got `
      + `${list.length}. ${list.length === 0 ? 'Give at least one statement.' : 'Split them over several steps, or use a stored procedure.'}`);
    return;
  }
  list.forEach((sql, index) => checkSql(`${name}[${index}]`, sql, errors));
}

/** Named parameters: valid names, non-empty values (the Data API has no NULL or empty parameter values). */
export function checkParameters(name: string, parameters: { [name: string]: string } | undefined, errors: string[]): void {
  if (parameters === undefined) return;
  const entries = Object.entries(parameters);
  if (entries.length === 0) {
    errors.push(`${name} must name at least one parameter; got {}. Remove ${name}, or add { name: value }.`);
  }
  for (const [key, value] of entries) {
    if (!PARAMETER_NAME.test(key)) {
      errors.push(`${name} has an invalid parameter name; got ${show(key)}. A name is a letter or underscore, then `
        + 'letters, digits or underscores (at most 128 characters), used as :name in the SQL. Rename it.');
    }
    if (typeof value !== 'string') {
      errors.push(`${name}.${key} must be a string (the Data API converts it to the column's type); got ${show(value)}. `
        + `Pass it as a string: ${key}: '${String(value)}'.`);
    } else if (value === '' ) {
      errors.push(`${name}.${key} must not be empty: the Data API has no empty or NULL parameter values; got ''. Write NULL `
        + `or '' in the SQL in place of :${key}, and remove ${key} from ${name}.`);
    }
  }
}

/** Throws one error listing every problem of a construct's props. */
export function throwIfInvalid(construct: string, path: string, errors: readonly string[]): void {
  if (errors.length > 0) throw new Error(`Invalid ${construct} props (${path}):\n- ${errors.join('\n- ')}`);
}

/** `:a, :b` */
const asParameters = (names: readonly string[]): string => names.map((name) => `:${name}`).join(', ');
/** `parameters { a, b }` for the names of a parameter map. */
const asKeys = (names: readonly string[]): string => (names.length === 0 ? 'no parameters' : `parameters { ${names.join(', ')} }`);

/** A literal statement and the name the errors give it (`sql`, `sqlStatements[1]`, `onCreate`). */
interface NamedSql {
  readonly name: string;
  readonly sql: string;
}

/** The literal statements of a list prop (`undefined` when the list or one of them is known only later). */
function literalStatements(name: string, list: readonly string[] | undefined): NamedSql[] | undefined {
  if (list === undefined) return [];
  if (!Array.isArray(list) || Token.isUnresolved(list)) return undefined;
  const literal = list.filter((sql) => typeof sql === 'string' && isLiteral(sql));
  if (literal.length !== list.length) return undefined;
  return list.map((sql, index) => ({ name: list.length === 1 ? name : `${name}[${index}]`, sql }));
}

/** The names of a literal parameter map (none when it is not given; `'unknown'` for a token). */
function parameterKeys(parameters: { [name: string]: string } | undefined): readonly string[] | 'unknown' {
  if (parameters === undefined) return [];
  return Token.isUnresolved(parameters) || typeof parameters !== 'object' ? 'unknown' : Object.keys(parameters);
}

/** Every `:name` a statement uses must be given; returns the names used. */
function checkGiven(statements: readonly NamedSql[], keys: readonly string[], errors: string[]): Set<string> {
  const used = new Set<string>();
  for (const { name, sql } of statements) {
    const names = namedParameters(sql);
    names.forEach((parameter) => used.add(parameter));
    const missing = names.filter((parameter) => !keys.includes(parameter));
    if (missing.length > 0) {
      errors.push(`${name} uses ${asParameters(missing)}, which parameters does not give; got ${asKeys(keys)}. Add `
        + `${missing.map((parameter) => `${parameter}: '<value>'`).join(', ')} to parameters, or correct the name in the SQL.`);
    }
  }
  return used;
}

/** Every name given must be used (the Data API refuses unused parameters). */
function checkUsed(keys: readonly string[], used: Set<string>, which: string, got: string, errors: string[]): void {
  const unused = keys.filter((key) => !used.has(key));
  if (unused.length > 0) {
    errors.push(`parameters gives ${unused.join(', ')}, which ${which} (the Data API refuses unused `
      + `parameters); got ${got}. Remove ${unused.join(', ')} from parameters, or use ${asParameters(unused)} in the SQL.`);
  }
}

/** A task's literal SQL (`sql`, or every statement of `sqlStatements`) uses exactly the names `parameters` gives. */
export function checkTaskParameters(sql: string | undefined, sqlStatements: readonly string[] | undefined,
  parameters: { [name: string]: string } | undefined, errors: string[]): void {
  const keys = parameterKeys(parameters);
  if (keys === 'unknown' || (sql !== undefined && sqlStatements !== undefined)) return;
  const statements = sql !== undefined
    ? (typeof sql === 'string' && isLiteral(sql) ? [{ name: 'sql', sql }] : undefined)
    : literalStatements('sqlStatements', sqlStatements);
  if (statements === undefined) return;
  const used = checkGiven(statements, keys, errors);
  const got = sql !== undefined ? `sql ${show(sql)}` : `sqlStatements ${show(sqlStatements)}`;
  checkUsed(keys, used, `${sql !== undefined ? 'sql' : 'sqlStatements'} does not use`, got, errors);
}

/**
 * A custom resource's literal SQL against its `parameters`: the SQL of each request type (a statement or a list)
 * gets the parameters it names, so each name it uses must be given, and each name given must be used by one of them.
 */
export function checkResourceParameters(lists: { [name: string]: readonly string[] | undefined },
  parameters: { [name: string]: string } | undefined, errors: string[]): void {
  const keys = parameterKeys(parameters);
  if (keys === 'unknown') return;
  const used = new Set<string>();
  let complete = true;
  for (const [name, list] of Object.entries(lists)) {
    const statements = literalStatements(name, list);
    if (statements === undefined) {
      complete = false;
      continue;
    }
    checkGiven(statements, keys, errors).forEach((parameter) => used.add(parameter));
  }
  if (complete) checkUsed(keys, used, `none of ${Object.keys(lists).join(', ')} uses`, asKeys(keys), errors);
}

/** An execution mode: `TRANSACTION` or `AUTO_COMMIT` (or a token, checked at run time), only for a list of statements. */
export function checkExecutionMode(name: string, mode: string | undefined, isList: boolean, listName: string, errors: string[]): void {
  if (mode === undefined) return;
  if (!isList) {
    errors.push(`${name} is only for a list of statements (${listName}); got ${show(mode)} without one. Remove ${name}, or `
      + `give the SQL as ${listName}.`);
    return;
  }
  if (isLiteral(mode) && !(EXECUTION_MODES as readonly string[]).includes(mode)) {
    errors.push(`${name} must be ${EXECUTION_MODES.join(' or ')}; got ${show(mode)}. Use BatchExecutionMode.TRANSACTION or `
      + 'BatchExecutionMode.AUTO_COMMIT.');
  }
}

/** A session: a keep-alive of whole seconds up to 24 hours, a session id that is a Data API UUID (or a value of the state). */
export function checkSession(keepAlive: Duration | undefined, sessionId: string | undefined, errors: string[]): void {
  if (keepAlive !== undefined && !Token.isUnresolved(keepAlive.toMilliseconds({ integral: false }))) {
    const ms = keepAlive.toMilliseconds({ integral: false });
    if (ms % 1000 !== 0 || ms < 1000 || ms > Limits.MAX_SESSION_KEEP_ALIVE_SECONDS * 1000) {
      errors.push('sessionKeepAlive must be a whole number of seconds from 1 second to 24 hours (the Data API\'s '
        + `SessionKeepAliveSeconds); got ${keepAlive.toHumanString()}. Use Duration.minutes(10), say.`);
    }
  }
  if (sessionId === undefined) return;
  if (typeof sessionId !== 'string') {
    errors.push(`sessionId must be a string; got ${show(sessionId)}. Pass the session id from the state, for example `
      + 'sfn.JsonPath.stringAt(\'$.open.sessionId\').');
  } else if (isLiteral(sessionId) && !SESSION_ID.test(sessionId)) {
    errors.push(`sessionId must be a Data API session id (a UUID) or a value of the state; got ${show(sessionId)}. Pass `
      + 'the sessionId of the task that opened the session, for example sfn.JsonPath.stringAt(\'$.open.sessionId\') or '
      + '\'{% $states.input.open.sessionId %}\'.');
  }
}

/** A row format: `RowFormat.OBJECTS` or `RowFormat.TYPED_CELLS`. */
export function checkRowFormat(name: string, format: { readonly value?: unknown } | undefined, errors: string[]): void {
  if (format === undefined) return;
  if (!(ROW_FORMATS as readonly unknown[]).includes(format?.value)) {
    errors.push(`${name} must be RowFormat.OBJECTS or RowFormat.TYPED_CELLS; got ${show(format?.value ?? format)}. Pass one of them.`);
  }
}
