/**
 * The local database is PostgreSQL, not Redshift. Redshift's physical-design clauses, which change where rows are
 * stored but not what a query returns, are dropped before a statement runs; the Redshift-only features PostgreSQL
 * cannot stand in for make the statement fail with an error that names the construct and says it is Redshift-only
 * (the statement ends FAILED, as a wrong statement does on Redshift, so a task's Catch sees it).
 *
 * Works on code segments only (strings, quoted identifiers and comments are kept as they are).
 */

/** A Redshift-only construct that fails locally. */
interface Unsupported {
  readonly name: string;
  readonly pattern: RegExp;
  readonly hint: string;
}

/** Redshift-only constructs the local run refuses, with what to do instead. */
export const REDSHIFT_ONLY: readonly Unsupported[] = [
  { name: 'UNLOAD', pattern: /^\s*unload\b/i, hint: 'it writes to Amazon S3; mock the state that runs it, or test the query without UNLOAD' },
  { name: 'COPY from Amazon S3', pattern: /^\s*copy\b[\s\S]*\b(iam_role|credentials|access_key_id|manifest)\b/i, hint: 'it reads from Amazon S3; load seed rows with INSERT in a seed SQL file' },
  { name: 'SUPER', pattern: /\bsuper\b/i, hint: 'PostgreSQL has no SUPER type; use a VARCHAR column locally or mock the state' },
  { name: 'JSON_PARSE', pattern: /\bjson_parse\s*\(/i, hint: 'it builds SUPER values' },
  { name: 'CREATE EXTERNAL SCHEMA/TABLE (Spectrum)', pattern: /\bcreate\s+external\s+(schema|table)\b/i, hint: 'external tables read Amazon S3 or another catalog' },
  { name: 'DATASHARE', pattern: /\bdatashare\b/i, hint: 'data sharing needs two Redshift namespaces' },
];

/** Physical-design clauses dropped before the statement runs (what they mean on Redshift, dropped locally). */
const DROPPED: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bdiststyle\s+(auto|even|key|all)\b/gi, ''],
  [/\bdistkey\s*\(\s*[\w"]+\s*\)/gi, ''],
  [/\b(compound\s+|interleaved\s+)?sortkey\s*(\(\s*[\w",\s]+\)|\bauto\b)/gi, ''],
  [/\bencode\s+(auto|raw|az64|bytedict|delta32k|delta|lzo|mostly8|mostly16|mostly32|runlength|text255|text32k|zstd)\b/gi, ''],
  [/\bbackup\s+(yes|no)\b/gi, ''],
  // Column attributes without arguments: `id int distkey sortkey`.
  [/\b(distkey|sortkey)\b(?!\s*\()/gi, ''],
];

/** The clauses the local run drops, as the guide lists them. */
export const DROPPED_CLAUSES = ['DISTSTYLE', 'DISTKEY', '[COMPOUND | INTERLEAVED] SORTKEY', 'ENCODE', 'BACKUP YES|NO'];

/** Whether code (outside strings and comments) creates or alters a table, where the dropped clauses belong. */
const TABLE_DDL = /^\s*(create\s+(temp(orary)?\s+)?table|alter\s+table|create\s+materialized\s+view)\b/i;

/** For a statement using a Redshift-only construct: a statement that fails saying so (otherwise undefined). */
export function refuseRedshiftOnly(code: string): string | undefined {
  const refused = REDSHIFT_ONLY.find((construct) => construct.pattern.test(code));
  return refused && failingStatement(refused);
}

/** Drops the physical-design clauses from a code segment of a table's DDL (`code`: the statement's code). */
export function dropPhysicalDesign(segment: string, code: string): string {
  if (!TABLE_DDL.test(code)) return segment;
  return DROPPED.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), segment);
}

/** A statement that fails with the message that the construct is Redshift-only. */
function failingStatement(construct: Unsupported): string {
  const message = `${construct.name} is Redshift-only and does not run on the local PostgreSQL engine (${construct.hint}).`;
  return `DO $redshift_only$ BEGIN RAISE EXCEPTION '%', '${message.replace(/'/g, "''")}' USING ERRCODE = '0A000'; END $redshift_only$`;
}
