/**
 * Synth-time validation of the SQL the tasks and the custom resource carry. Values that are unresolved tokens
 * (JSONPath, CloudFormation) or JSONata expressions (`{% ... %}`) are only known when the state or the resource runs,
 * so they are skipped; every other problem says what is wrong, the value received and the fix, and all problems of
 * one construct are reported together.
 */
import { Token } from 'aws-cdk-lib';
import { Limits, PARAMETER_NAME, show } from '../contract';

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
    errors.push(`${name} must be a string of SQL; got ${show(sql)}.`);
    return;
  }
  if (!isLiteral(sql)) return;
  if (sql.trim() === '') {
    errors.push(`${name} must be one SQL statement; got an empty string. Give the statement to run.`);
    return;
  }
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > MAX_SQL_BYTES) {
    errors.push(`${name} is ${bytes} bytes; the Redshift Data API accepts at most ${MAX_SQL_BYTES} bytes per statement. `
      + 'Split it into several statements, or use a stored procedure or a view.');
  }
}

/** A list of statements run as one transaction: 1 to 40 statements, each valid. */
export function checkStatementList(name: string, list: readonly string[], errors: string[]): void {
  if (!Array.isArray(list)) {
    errors.push(`${name} must be a list of SQL statements; got ${show(list)}.`);
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
      errors.push(`${name} has the parameter name ${show(key)}; a name is a letter or underscore, then letters, digits `
        + 'or underscores (at most 128 characters), used as :name in the SQL. Rename it.');
    }
    if (typeof value !== 'string') {
      errors.push(`${name}.${key} must be a string (the Data API converts it to the column's type); got ${show(value)}.`);
    } else if (value === '' ) {
      errors.push(`${name}.${key} is an empty string; the Data API has no empty or NULL parameter values. Write NULL `
        + 'or \'\' in the SQL instead.');
    }
  }
}

/** Throws one error listing every problem of a construct's props. */
export function throwIfInvalid(construct: string, path: string, errors: readonly string[]): void {
  if (errors.length > 0) throw new Error(`Invalid ${construct} props (${path}):\n- ${errors.join('\n- ')}`);
}
