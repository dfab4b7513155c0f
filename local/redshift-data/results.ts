/** Statement results: PostgreSQL's text values → the Data API's typed fields and column metadata, read from the spool a page at a time. */
import { PgField } from './engine';
import { ResultSpool } from './result-spool';
import { DataApiColumn, DataApiField } from './types';

// -------------------------------------------------------------------------------------------------------------------
type FieldKind = 'long' | 'double' | 'boolean' | 'string';

/** PostgreSQL type OID → the Data API's type name, the field used for its values, precision and sign. */
const TYPES: Record<number, { typeName: string; kind: FieldKind; precision: number; signed?: boolean; caseSensitive?: boolean }> = {
  16: { typeName: 'bool', kind: 'boolean', precision: 1 },
  20: { typeName: 'int8', kind: 'long', precision: 19, signed: true },
  21: { typeName: 'int2', kind: 'long', precision: 5, signed: true },
  23: { typeName: 'int4', kind: 'long', precision: 10, signed: true },
  26: { typeName: 'oid', kind: 'long', precision: 10 },
  700: { typeName: 'float4', kind: 'double', precision: 8, signed: true },
  701: { typeName: 'float8', kind: 'double', precision: 17, signed: true },
  1700: { typeName: 'numeric', kind: 'string', precision: 38, signed: true },
  18: { typeName: 'char', kind: 'string', precision: 1, caseSensitive: true },
  19: { typeName: 'name', kind: 'string', precision: 64, caseSensitive: true },
  25: { typeName: 'text', kind: 'string', precision: 256, caseSensitive: true },
  1042: { typeName: 'bpchar', kind: 'string', precision: 256, caseSensitive: true },
  1043: { typeName: 'varchar', kind: 'string', precision: 256, caseSensitive: true },
  1082: { typeName: 'date', kind: 'string', precision: 13 },
  1083: { typeName: 'time', kind: 'string', precision: 15 },
  1266: { typeName: 'timetz', kind: 'string', precision: 21 },
  1114: { typeName: 'timestamp', kind: 'string', precision: 29 },
  1184: { typeName: 'timestamptz', kind: 'string', precision: 35 },
  1186: { typeName: 'interval', kind: 'string', precision: 49 },
  114: { typeName: 'super', kind: 'string', precision: 0, caseSensitive: true },
  3802: { typeName: 'super', kind: 'string', precision: 0, caseSensitive: true },
};

function toField(text: string | null, kind: FieldKind): DataApiField {
  if (text === null) return { isNull: true };
  switch (kind) {
    case 'long': {
      const value = Number(text);
      return Number.isSafeInteger(value) ? { longValue: value } : { stringValue: text };
    }
    case 'double': {
      const value = Number(text);
      return Number.isFinite(value) ? { doubleValue: value } : { stringValue: text };
    }
    case 'boolean':
      return { booleanValue: text === 't' || text === 'true' };
    default:
      return { stringValue: text };
  }
}

/** A statement's result as the Data API serves it: its columns, and its rows page by page as typed fields. */
export interface StatementResult {
  readonly columns: DataApiColumn[];
  readonly rowCount: number;
  /** `count` records from row `offset`. */
  read(offset: number, count: number): DataApiField[][];
  /** Frees the rows. */
  discard(): void;
}

/** The Data API's column metadata and typed records for a statement's columns and the rows a spool holds. */
export function statementResult(fields: readonly PgField[], spool: ResultSpool): StatementResult {
  const types = fields.map((f) => TYPES[f.dataTypeID] ?? { typeName: 'varchar', kind: 'string' as FieldKind, precision: 0, caseSensitive: true });
  const columns: DataApiColumn[] = fields.map((f, i) => ({
    isCaseSensitive: types[i].caseSensitive ?? false,
    isCurrency: false,
    isSigned: types[i].signed ?? false,
    label: f.name,
    name: f.name,
    nullable: 1,
    precision: types[i].precision,
    scale: 0,
    schemaName: '',
    tableName: '',
    typeName: types[i].typeName,
    length: 0,
  }));
  return {
    columns,
    rowCount: spool.rowCount,
    read: (offset, count) => spool.read(offset, count).map((row) => row.map((value, i) => toField(value, types[i].kind))),
    discard: () => spool.discard(),
  };
}
