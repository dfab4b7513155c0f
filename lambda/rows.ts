/**
 * Rows as plain JSON: the Data API's typed fields (`{"longValue": 1}`, `{"stringValue": "x"}`, `{"isNull": true}`)
 * converted by the column's Redshift type into values keyed by column name (pure: no I/O).
 *
 * Conversions (documented in the README and `RowFormat`): `int2`/`int4`/`int8` and `float4`/`float8` → numbers
 * (an `int8` beyond ±2^53 → a string: a JSON number would lose digits); `numeric` (`DECIMAL`) → the exact digits as a
 * string; `bool` → boolean; null → `null`; `date` → `YYYY-MM-DD`; `timestamp`/`timestamptz` → ISO 8601
 * (`2024-05-01T12:30:00`, `2024-05-01T12:30:00+00:00`); `super` → its JSON text as given; `varbyte` (blob) → base64;
 * anything else → the string the Data API gives.
 */
import { RowFormatName } from '../src/contract';

/** One typed field of a Data API record, as plain JSON (blobs already base64). */
export interface TypedField {
  readonly isNull?: boolean;
  readonly booleanValue?: boolean;
  readonly longValue?: number;
  readonly doubleValue?: number;
  readonly stringValue?: string;
  readonly blobValue?: string;
  readonly arrayValue?: unknown;
}

/** A column's metadata, as the Data API gives it (only the fields used here). */
export interface ColumnMetadata {
  readonly name?: string;
  readonly label?: string;
  readonly typeName?: string;
}

/** A column as a result carries it once: its name and its Redshift type name. */
export interface Column {
  readonly name: string;
  readonly type: string;
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'smallint', 'integer', 'bigint', 'oid']);
const DECIMAL_TYPES = new Set(['numeric', 'decimal']);
const TIMESTAMP = /^(\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|(Z))?$/;

/**
 * The columns of a result: names (the label when the Data API gives no name; `column<n>` when neither) and types. A
 * name already taken by an earlier column gets `_2`, `_3`, ... (`select 1 as a, 2 as a` → `a`, `a_2`), so no value of
 * a row is lost.
 */
export function columnsOf(metadata: readonly ColumnMetadata[] | undefined): Column[] {
  const taken = new Set<string>();
  return (metadata ?? []).map((column, index) => {
    const base = column.name || column.label || `column${index + 1}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return { name, type: column.typeName ?? 'unknown' };
  });
}

/** A Redshift timestamp (`2024-05-01 12:30:00.123456+00`) as ISO 8601; other text as given. */
export function isoTimestamp(text: string): string {
  const match = TIMESTAMP.exec(text);
  if (match === null) return text;
  const [, date, time, sign, hours, minutes, seconds, zulu] = match;
  if (zulu !== undefined) return `${date}T${time}Z`;
  if (sign === undefined) return `${date}T${time}`;
  return `${date}T${time}${sign}${hours}:${minutes ?? '00'}${seconds !== undefined ? `:${seconds}` : ''}`;
}

/** One field as a plain value, by its column's type. */
export function plainValue(field: TypedField, type: string): unknown {
  if (field.isNull === true) return null;
  const t = type.toLowerCase();
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) {
    if (DECIMAL_TYPES.has(t)) return String(field.longValue);
    return Number.isSafeInteger(field.longValue) ? field.longValue : String(field.longValue);
  }
  if (field.doubleValue !== undefined) return DECIMAL_TYPES.has(t) ? String(field.doubleValue) : field.doubleValue;
  if (field.blobValue !== undefined) return field.blobValue;
  if (field.stringValue !== undefined) {
    const text = field.stringValue;
    if (INTEGER_TYPES.has(t) && /^-?\d+$/.test(text)) {
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : text;
    }
    if (t === 'timestamp' || t === 'timestamptz') return isoTimestamp(text);
    if (t === 'bool' || t === 'boolean') {
      if (text === 't' || text === 'true') return true;
      if (text === 'f' || text === 'false') return false;
    }
    return text;
  }
  if (field.arrayValue !== undefined) return field.arrayValue;
  // A field the Data API did not fill (no known member): null, as a row must have every column.
  return null;
}

/** A record (an array of typed fields) as a plain object keyed by column name. */
export function plainRow(record: readonly TypedField[], columns: readonly Column[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((column, index) => {
    row[column.name] = record[index] === undefined ? null : plainValue(record[index], column.type);
  });
  return row;
}

/** A record in the asked format: a plain object, or the typed fields as they are. */
export function formatRow(record: readonly TypedField[], columns: readonly Column[], format: RowFormatName): unknown {
  return format === 'OBJECTS' ? plainRow(record, columns) : record;
}
