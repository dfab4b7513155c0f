/** SQL files (schema, seed) split into statements: at semicolons outside strings, quoted identifiers and comments. */
import { segments } from './redshift-data/sql-text';

/** The statements of a SQL text, without empty ones and comment-only ones. */
export function splitSql(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  for (const segment of segments(text)) {
    if (segment.kind !== 'code') {
      current += segment.text;
      continue;
    }
    const parts = segment.text.split(';');
    current += parts[0];
    for (const part of parts.slice(1)) {
      statements.push(current);
      current = part;
    }
  }
  statements.push(current);
  return statements.map((s) => s.trim()).filter((s) => segments(s).some((segment) => segment.kind === 'code' && segment.text.trim()
    || segment.kind === 'literal' && !segment.text.startsWith('--') && !segment.text.startsWith('/*')));
}
