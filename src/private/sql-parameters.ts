/**
 * The named parameters (`:name`) an SQL text uses. The handler gives the SQL of each request type of a custom resource
 * only the parameters it names; the constructs check literal SQL against its `parameters` at synth. A small lexer, not
 * a parser: it skips string literals, quoted identifiers, comments and dollar-quoted bodies (procedures; a `$` inside a
 * name opens none), and `::` casts are not parameters.
 */
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** The match of a sticky pattern at `index`, if any. */
function matchAt(pattern: RegExp, sql: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(sql)?.[0];
}

/** Where a quoted text that starts at `start` ends (after its closing quote; a doubled quote is part of it). */
function afterQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i += 2;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Where the text that starts at `start` with `open` ends (after `close`), or the end of the SQL. */
function after(sql: string, start: number, open: string, close: string): number {
  const end = sql.indexOf(close, start + open.length);
  return end < 0 ? sql.length : end + close.length;
}

/** The parameter names the SQL uses, in order of first use. */
export function namedParameters(sql: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\'' || c === '"') {
      i = afterQuoted(sql, i, c);
    } else if (c === '-' && sql[i + 1] === '-') {
      i = after(sql, i, '--', '\n');
    } else if (c === '/' && sql[i + 1] === '*') {
      i = after(sql, i, '/*', '*/');
    } else if (c === '$' && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? '') && matchAt(DOLLAR_TAG, sql, i) !== undefined) {
      const tag = matchAt(DOLLAR_TAG, sql, i)!;
      i = after(sql, i, tag, tag);
    } else if (c === ':' && sql[i + 1] === ':') {
      i += 2;
    } else if (c === ':' && matchAt(NAME, sql, i + 1) !== undefined) {
      const name = matchAt(NAME, sql, i + 1)!;
      if (!names.includes(name)) names.push(name);
      i += 1 + name.length;
    } else {
      i++;
    }
  }
  return names;
}
