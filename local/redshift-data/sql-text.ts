/**
 * Lexical helpers for SQL text: find the Data API's named parameters (`:name`) outside strings, quoted identifiers
 * and comments, bind them to PostgreSQL's positional placeholders, and apply the small Redshift compatibility
 * rewrites the local engine needs.
 */
import { dropPhysicalDesign, refuseRedshiftOnly } from '../dialect';

/** A piece of SQL text: `code` can be rewritten; anything else (strings, identifiers, comments) is kept verbatim. */
interface Segment {
  readonly kind: 'code' | 'literal';
  readonly text: string;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/** Splits SQL into code and literal segments (single/double quotes, E-strings, dollar quotes, comments). */
export function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let i = 0;
  const flushCode = () => {
    if (code) out.push({ kind: 'code', text: code });
    code = '';
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    let end = -1;
    if (c === '-' && next === '-') {
      end = sql.indexOf('\n', i);
      end = end < 0 ? sql.length : end;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
        } else {
          j += 1;
        }
      }
      end = j;
    } else if (c === '\'' || c === '"') {
      const escapes = c === '\'' && i > 0 && /[eE]/.test(sql[i - 1]) && !IDENT_PART.test(sql[i - 2] ?? ' ');
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === '\\') { j += 2; continue; }
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue; }
          break;
        }
        j += 1;
      }
      end = Math.min(sql.length, j + 1);
    } else if (c === '$' && !IDENT_PART.test(sql[i - 1] ?? ' ')) {
      const match = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (match) {
        const tag = match[0];
        const close = sql.indexOf(tag, i + tag.length);
        end = close < 0 ? sql.length : close + tag.length;
      }
    }
    if (end > i) {
      flushCode();
      out.push({ kind: 'literal', text: sql.slice(i, end) });
      i = end;
    } else {
      code += c;
      i += 1;
    }
  }
  flushCode();
  return out;
}

/** Visits `:name` placeholders in code (not `::` casts); the callback returns the replacement text. */
function mapPlaceholders(sql: string, replace: (name: string) => string): string {
  return segments(sql).map((segment) => {
    if (segment.kind !== 'code') return segment.text;
    const text = segment.text;
    let result = '';
    let i = 0;
    while (i < text.length) {
      if (text[i] === ':' && text[i + 1] === ':') {
        result += '::';
        i += 2;
      } else if (text[i] === ':' && IDENT_START.test(text[i + 1] ?? '') && !IDENT_PART.test(text[i - 1] ?? ' ')) {
        let j = i + 1;
        while (j < text.length && IDENT_PART.test(text[j])) j += 1;
        result += replace(text.slice(i + 1, j));
        i = j;
      } else {
        result += text[i];
        i += 1;
      }
    }
    return result;
  }).join('');
}

/** Names of the `:name` parameters the SQL uses, in order of first use. */
export function namedParameters(sql: string): string[] {
  const names: string[] = [];
  mapPlaceholders(sql, (name) => {
    if (!names.includes(name)) names.push(name);
    return `:${name}`;
  });
  return names;
}

/** Replaces each `:name` with `$n` (n = position of the name in `order`, 1-based). */
export function bindNamedParameters(sql: string, order: readonly string[]): string {
  return mapPlaceholders(sql, (name) => {
    const index = order.indexOf(name);
    return index < 0 ? `:${name}` : `$${index + 1}`;
  });
}

/**
 * Redshift spellings PostgreSQL lacks, rewritten in code segments only:
 * - `SYSDATE` (the transaction start time; a keyword in Redshift) → `localtimestamp` (the database runs in UTC);
 * - in `CREATE USER` / `ALTER USER`: `CREATEUSER`/`NOCREATEUSER` (superuser in Redshift) → `SUPERUSER`/`NOSUPERUSER`,
 *   `PASSWORD DISABLE` → `PASSWORD NULL`, `CONNECTION LIMIT UNLIMITED` → `CONNECTION LIMIT -1`, and the
 *   Redshift-only `SYSLOG ACCESS { RESTRICTED | UNRESTRICTED }`, `SESSION TIMEOUT <n>` and `RESET SESSION TIMEOUT`
 *   options are accepted and dropped (PostgreSQL has no equivalent).
 * `GETDATE()` needs no rewrite: the database has a `getdate()` function (see `REDSHIFT_SHIMS`).
 *
 * And one change of behaviour, not of meaning: in the body of a `CREATE PROCEDURE`, a loop that does nothing
 * (`LOOP NULL; END LOOP`: a busy wait, the only way to wait in Redshift's PL/pgSQL) sleeps 10 ms per turn, so a
 * waiting statement does not hold a CPU core of the machine running the stand-in (the example's `sp_wait`).
 */
export function applyRedshiftRewrites(sql: string): string {
  const code = segments(sql).filter((segment) => segment.kind === 'code').map((segment) => segment.text).join(' ');
  const refused = refuseRedshiftOnly(code);
  if (refused) return refused;
  const userStatement = /^\s*(create|alter)\s+user\b/i.test(sql);
  const procedure = /^\s*create\s+(or\s+replace\s+)?procedure\b/i.test(sql);
  return segments(sql).map((segment) => {
    if (segment.kind !== 'code') {
      return procedure && segment.text.startsWith('$')
        ? segment.text.replace(/\bLOOP\s+NULL\s*;\s*END\s+LOOP\b/gi, 'LOOP PERFORM pg_sleep(0.01); END LOOP')
        : segment.text;
    }
    let text = dropPhysicalDesign(segment.text, code).replace(/\bsysdate\b/gi, 'localtimestamp');
    if (userStatement) {
      text = text
        .replace(/\bnocreateuser\b/gi, 'NOSUPERUSER')
        .replace(/\bcreateuser\b/gi, 'SUPERUSER')
        .replace(/\bpassword\s+disable\b/gi, 'PASSWORD NULL')
        .replace(/\bconnection\s+limit\s+unlimited\b/gi, 'CONNECTION LIMIT -1')
        .replace(/\bsyslog\s+access\s+(un)?restricted\b/gi, '')
        .replace(/\breset\s+session\s+timeout\b/gi, '')
        .replace(/\bsession\s+timeout\s+\d+\b/gi, '');
    }
    return text;
  }).join('');
}

/** Functions created in every local database (Redshift built-ins PostgreSQL does not have). */
export const REDSHIFT_SHIMS = `
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC'); END $$;
-- GETDATE(): the current date and time in UTC, without fractional seconds.
CREATE FUNCTION getdate() RETURNS timestamp LANGUAGE sql STABLE AS
  $$ SELECT date_trunc('second', now() AT TIME ZONE 'UTC') $$;
`;
