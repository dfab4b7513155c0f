/**
 * Parsing and quoting of custom-resource properties: pure functions, no AWS SDK.
 *
 * CloudFormation hands every scalar property to the function as a string (`true` arrives as `"true"`, `3` as `"3"`),
 * so booleans and numbers are parsed from both forms. Identifiers are checked against a strict pattern before they
 * are written into SQL, and literals are quoted; nothing from the event is spliced into SQL unchecked.
 */
import { Limits, show } from '../../lambda/custom-resource-api';

export { show };
const { MAX_SQL_BYTES, MAX_BATCH_STATEMENTS } = Limits;

/** A property value that cannot be used; the message names the property, the value received and what is expected. */
export class PropertyError extends Error {
  public readonly name = 'PropertyError';
}

/** Properties CloudFormation adds to every custom resource; they are not part of the resource's own properties. */
export const CLOUDFORMATION_PROPERTIES: readonly string[] = ['ServiceToken', 'ServiceTimeout'];

/** Identifiers: a lowercase letter or underscore, then lowercase letters, digits, `_` or `$`; at most 127 characters. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_$]{0,126}$/;

export type Properties = Record<string, unknown>;

/** Rejects properties the resource does not know (a typo must not be ignored silently). */
export function rejectUnknown(properties: Properties, known: readonly string[]): void {
  const unknown = Object.keys(properties).filter((key) => !known.includes(key) && !CLOUDFORMATION_PROPERTIES.includes(key));
  if (unknown.length > 0) {
    throw new PropertyError(`unknown propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((key) => `"${key}"`).join(', ')}; `
      + `the supported properties are ${known.join(', ')}.`);
  }
}

/** A boolean given as `true`/`false` or as the strings CloudFormation makes of them (any letter case). */
export function parseBoolean(properties: Properties, name: string, defaultValue: boolean): boolean {
  const value = properties[name];
  if (value === undefined || value === null) return defaultValue;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new PropertyError(`"${name}" must be true or false, got ${show(value)}.`);
}

/** A whole number given as a number or a string of digits, within [min, max]. */
export function parseInteger(properties: Properties, name: string, defaultValue: number, min: number, max: number): number {
  const value = properties[name];
  if (value === undefined || value === null) return defaultValue;
  const parsed = typeof value === 'number' ? value
    : typeof value === 'string' && /^\s*-?\d{1,10}\s*$/.test(value) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new PropertyError(`"${name}" must be a whole number from ${min} to ${max}, got ${show(value)}.`);
  }
  return parsed;
}

/** An optional string; empty strings count as absent. */
export function parseOptionalString(properties: Properties, name: string): string | undefined {
  const value = properties[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new PropertyError(`"${name}" must be a string, got ${show(value)}.`);
  return value;
}

/** A database identifier (user or group name), checked against `IDENTIFIER_PATTERN`. */
export function parseIdentifier(value: unknown, what: string): string {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
    throw new PropertyError(`${what} must be a lowercase identifier (a letter or underscore, then letters, digits, `
      + `"_" or "$", at most 127 characters), got ${show(value)}.`);
  }
  return value;
}

/** A list of identifiers, given as a list or (as some templates do) a comma-separated string; duplicates removed. */
export function parseIdentifierList(properties: Properties, name: string): string[] {
  const value = properties[name];
  if (value === undefined || value === null || value === '') return [];
  const items = typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
  if (!Array.isArray(items)) throw new PropertyError(`"${name}" must be a list of names, got ${show(value)}.`);
  const names = items.map((item, index) => parseIdentifier(item, `"${name}"[${index}]`));
  return [...new Set(names)];
}

/**
 * One SQL statement or a list of them (run in one transaction), as given in `name`.
 * @throws PropertyError when absent, empty, too long or too many
 */
export function parseSql(properties: Properties, name: string): string[] {
  const value = properties[name];
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.length === 0) {
    throw new PropertyError(`"${name}" is required: one SQL statement, or a list of up to ${MAX_BATCH_STATEMENTS} `
      + `statements run in one transaction; got ${show(value)}.`);
  }
  if (items.length > MAX_BATCH_STATEMENTS) {
    throw new PropertyError(`"${name}" has ${items.length} statements; at most ${MAX_BATCH_STATEMENTS} run in one transaction.`);
  }
  return items.map((item, index) => {
    const where = items === value ? `"${name}"[${index}]` : `"${name}"`;
    if (typeof item !== 'string' || item.trim() === '') throw new PropertyError(`${where} must be a non-empty SQL string, got ${show(item)}.`);
    if (Buffer.byteLength(item) > MAX_SQL_BYTES) {
      throw new PropertyError(`${where} is ${Buffer.byteLength(item)} bytes; the Redshift Data API accepts at most ${MAX_SQL_BYTES}.`);
    }
    return item;
  });
}

/** Quotes an identifier that passed `parseIdentifier` (quoting also protects reserved words such as "user"). */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name)) throw new PropertyError(`refusing to quote ${show(name)} as an identifier.`);
  return `"${name}"`;
}

/** Quotes a string literal: single quotes are doubled; backslashes and NUL characters are refused. */
export function quoteLiteral(value: string): string {
  if (/[\\\0]/.test(value)) throw new PropertyError(`refusing to quote ${show(value)}: backslashes and NUL characters are not allowed.`);
  return `'${value.replace(/'/g, "''")}'`;
}
