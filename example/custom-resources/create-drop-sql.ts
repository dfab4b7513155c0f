/**
 * `create_drop`: runs `create_sql` when the resource is created and `drop_sql` when it is deleted.
 *
 * Update runs no SQL and keeps the resource: the object `create_sql` made stays as it is, and the new `drop_sql`
 * is the one that runs on Delete. Running SQL on Update could leave CloudFormation unable to roll back (a failed
 * update is rolled back with a second update, which would run SQL against an object in an unknown state); to
 * re-create an object, replace the resource (give it a new logical id and, for objects with a fixed name, a new name).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Plan, noSql, sql } from './plan';
import { Properties, parseSql, rejectUnknown } from './properties';

export const CREATE_SQL = 'create_sql';
export const DROP_SQL = 'drop_sql';

export interface CreateDropProperties {
  /** Statements run on Create (one, or several in one transaction). */
  readonly createSql: string[];
  /** Statements run on Delete (one, or several in one transaction). */
  readonly dropSql: string[];
}

/** Validates the resource properties (both SQL properties are required, nothing else is accepted). */
export function parseCreateDropProperties(properties: Properties): CreateDropProperties {
  rejectUnknown(properties, [CREATE_SQL, DROP_SQL]);
  return { createSql: parseSql(properties, CREATE_SQL), dropSql: parseSql(properties, DROP_SQL) };
}

export function planCreateDrop(event: CloudFormationCustomResourceEvent): Plan {
  const properties = parseCreateDropProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return sql(...properties.createSql);
    case 'Delete':
      return sql(...properties.dropSql);
    case 'Update': {
      const old = event.OldResourceProperties;
      const changed = JSON.stringify(old?.[CREATE_SQL]) !== JSON.stringify(event.ResourceProperties[CREATE_SQL]);
      return noSql(changed
        ? 'create_drop runs no SQL on Update: the object created by the previous create_sql is kept, and the new '
          + 'drop_sql runs on Delete. To apply a changed create_sql, replace the resource (new logical id).'
        : 'create_drop runs no SQL on Update; create_sql is unchanged.');
    }
  }
}
