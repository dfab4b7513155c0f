/**
 * The example SQL runs on PostgreSQL too (embedded, @electric-sql/pglite, in a child process): the slow procedure,
 * the custom resources' create and drop statements as the app ships them, and the manage_user statements whose
 * syntax PostgreSQL shares with Redshift. (SYSLOG ACCESS, CREATEUSER, SESSION TIMEOUT and PASSWORD DISABLE are
 * Redshift-only; `getdate()` is Redshift's and gets a one-line stand-in here.)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { logicalId, synthesizeExample } from './support';
import { NOT_SET, UserProperties, alterUserSql, createUserSql, dropUserSql } from '../../example/custom-resources/manage-user-sql';
import {
  FAILING_STATEMENT, SLOW_PROCEDURE_CREATE_SQL, SLOW_PROCEDURE_DROP_SQL, SUCCEEDING_STATEMENT, slowStatement,
} from '../../example/machines';

interface Outcome { readonly ok: boolean; readonly error?: string; readonly rows?: unknown[] }

/** Runs the statements one by one on a fresh embedded PostgreSQL; an error does not stop the others. */
function runOnPostgres(statements: string[]): Outcome[] {
  const script = `
    import { PGlite } from '@electric-sql/pglite';
    const statements = JSON.parse(process.argv[1]);
    const db = await PGlite.create();
    const outcomes = [];
    for (const sql of statements) {
      try {
        const [result] = await db.exec(sql);
        outcomes.push({ ok: true, rows: result?.rows ?? [] });
      } catch (error) {
        outcomes.push({ ok: false, error: error.message });
      }
    }
    await db.close();
    process.stdout.write(JSON.stringify(outcomes));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(statements)], {
    cwd: join(__dirname, '..', '..'), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(output);
}

const { integ, resources } = synthesizeExample();
const sqlOf = (id: string, property: 'OnCreate' | 'OnUpdate' | 'OnDelete'): string[] =>
  [resources[logicalId(integ.stack, integ.customResources[id])].Properties[property] ?? []].flat();

// The RedshiftSql resources in the order CloudFormation creates them (dependencies first); deleted in reverse.
// rs_user2's `PASSWORD DISABLE` is Redshift's own syntax (the local Data API stand-in accepts it; PostgreSQL does not).
const sqlResources = ['rs_slow_procedure', 'rs_table', 'rs_view', 'rs_groups'];
const GETDATE_STAND_IN = 'create function getdate() returns timestamp language sql as \'select localtimestamp\'';
const HASH = 'md5e1c252bf4c426727db9c7bfc726760d8';
const user = (overrides: Partial<UserProperties>): UserProperties => ({
  username: 'cfncreated_user',
  password: HASH,
  createDb: true,
  createUser: false,
  unrestrictedSyslogAccess: false,
  groups: ['group_a', 'group_b'],
  validUntil: '2035-12-31 23:59:59',
  connectionLimit: 3,
  sessionTimeout: NOT_SET,
  ...overrides,
});

const creates = [...sqlResources.flatMap((id) => sqlOf(id, 'OnCreate')), ...sqlResources.flatMap((id) => sqlOf(id, 'OnUpdate'))];
const userStatements = [
  createUserSql(user({})),
  ...alterUserSql(user({}), user({ username: 'renamed_user', createDb: false, groups: ['group_b'], connectionLimit: 5, validUntil: undefined })),
  dropUserSql(user({ username: 'renamed_user' })),
  dropUserSql(user({ username: 'renamed_user' })),
];
const drops = [...sqlResources].reverse().flatMap((id) => sqlOf(id, 'OnDelete'));
const statements = [
  ...creates,
  SLOW_PROCEDURE_CREATE_SQL, // CREATE OR REPLACE: running it again is fine
  slowStatement(0),
  slowStatement(1),
  GETDATE_STAND_IN,
  SUCCEEDING_STATEMENT,
  FAILING_STATEMENT,
  ...userStatements,
  ...drops,
  SLOW_PROCEDURE_DROP_SQL, // IF EXISTS: dropping twice is fine
];

let outcomes: Outcome[];
beforeAll(() => { outcomes = runOnPostgres(statements); }, 180_000);

/** The outcome of the `occurrence`-th run of `sql`. */
function outcomeOf(sql: string, occurrence = 0): Outcome {
  const positions = statements.flatMap((statement, i) => (statement === sql ? [i] : []));
  return outcomes[positions[occurrence]];
}

test('the custom resources\' create statements run, in dependency order', () => {
  expect(creates).toEqual(expect.arrayContaining([SLOW_PROCEDURE_CREATE_SQL, 'create group group_a']));
  for (const sql of creates) expect({ sql, ...outcomeOf(sql) }).toEqual({ sql, ok: true, rows: [] });
});

test('the slow procedure can be replaced and called', () => {
  expect(outcomeOf(SLOW_PROCEDURE_CREATE_SQL, 1).ok).toBe(true);
  expect(outcomeOf(slowStatement(0))).toEqual({ ok: true, rows: [] });
  expect(outcomeOf(slowStatement(1))).toEqual({ ok: true, rows: [] });
});

test('the succeeding statement returns one row; the failing one fails because get_date does not exist', () => {
  expect(outcomeOf(SUCCEEDING_STATEMENT).rows).toHaveLength(1);
  expect(outcomeOf(FAILING_STATEMENT)).toEqual({ ok: false, error: 'function get_date() does not exist' });
});

test('manage_user statements (the syntax PostgreSQL shares): create, rename, alter, regroup, drop twice', () => {
  expect(userStatements).toEqual([
    `CREATE USER "cfncreated_user" PASSWORD '${HASH}' CREATEDB IN GROUP "group_a", "group_b" `
      + 'VALID UNTIL \'2035-12-31 23:59:59\' CONNECTION LIMIT 3',
    'ALTER USER "cfncreated_user" RENAME TO "renamed_user"',
    'ALTER USER "renamed_user" NOCREATEDB',
    `ALTER USER "renamed_user" PASSWORD '${HASH}' VALID UNTIL 'infinity'`,
    'ALTER USER "renamed_user" CONNECTION LIMIT 5',
    'ALTER GROUP "group_a" DROP USER "renamed_user"',
    'DROP USER IF EXISTS "renamed_user"',
    'DROP USER IF EXISTS "renamed_user"',
  ]);
  const first = statements.indexOf(userStatements[0]);
  userStatements.forEach((sql, i) => expect({ sql, ...outcomes[first + i] }).toEqual({ sql, ok: true, rows: [] }));
});

test('the drop statements run in reverse order, after the objects exist', () => {
  for (const sql of drops) expect({ sql, ok: outcomeOf(sql).ok }).toEqual({ sql, ok: true });
  expect(outcomeOf(SLOW_PROCEDURE_DROP_SQL, 1).ok).toBe(true);
});
