/** Statement results: PostgreSQL's text values → the Data API's typed fields and column metadata. */
import { PgResult } from './engine';
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

export function shapeResult(result: PgResult): {
  hasResultSet: boolean; rows: number; size: number; columns: DataApiColumn[]; records: DataApiField[][];
} {
  const hasResultSet = result.fields.length > 0;
  if (!hasResultSet) {
    // DML reports affected rows; DDL and utility statements report 0.
    return { hasResultSet, rows: result.affectedRows, size: 0, columns: [], records: [] };
  }
  const types = result.fields.map((f) => TYPES[f.dataTypeID] ?? { typeName: 'varchar', kind: 'string' as FieldKind, precision: 0, caseSensitive: true });
  const columns: DataApiColumn[] = result.fields.map((f, i) => ({
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
  let size = 0;
  const records = result.rows.map((row) => row.map((value, i) => {
    size += value === null ? 0 : Buffer.byteLength(value);
    return toField(value, types[i].kind);
  }));
  return { hasResultSet, rows: records.length, size, columns, records };
}
