/**
 * The end-to-end scenarios of the local run — shared by `npm run demo` and the tests: the example app's custom
 * resources (create, update, a failing SQL, delete) and every example state machine, each checked against its
 * expected outcome with evidence from the local stand-ins (statement states in the Data API, rows in the database,
 * the states an execution went through).
 */
import { LocalCloud } from './cloud';
import { CustomResourceOutcome } from './cloudformation/driver';
import { Json } from './cloudformation/template';
import { SynthesizedExample } from './example';
import { MACHINES, runChain, runMachine, truncate } from './machine-scenarios';
import { reconcilerScenarios } from './reconciler-demo';
import { TraceEvent } from './stepfunctions/runner';

export interface ScenarioResult {
  readonly name: string;
  readonly kind: 'custom resource' | 'state machine' | 'reconciler';
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
  readonly durationMs: number;
}

export type Phase = 'createStack' | 'machines' | 'chain' | 'updates' | 'failures' | 'reconciler' | 'deleteStack';
export const ALL_PHASES: readonly Phase[] = ['createStack', 'machines', 'chain', 'updates', 'failures', 'reconciler', 'deleteStack'];

export interface ScenarioContext {
  readonly cloud: LocalCloud;
  readonly example: SynthesizedExample;
  /** Every trace event of the run (the caller forwards `onTrace` here). */
  readonly trace: TraceEvent[];
  /** Called when a scenario ends. */
  readonly onResult?: (result: ScenarioResult) => void;
  /** Called when a phase starts. */
  readonly onPhase?: (phase: Phase) => void;
}

const DATABASE = 'dev';

/**
 * Phases that only need the custom resources created and use different objects run at the same time (as they would
 * on AWS), unless `sequential`. The machines run on their own first: the chain runs the singleton machine again, and
 * the two runs would hold the same lock (its SQL is the same) if they overlapped.
 */
const CONCURRENT_PHASES: ReadonlySet<Phase> = new Set<Phase>(['chain', 'updates', 'failures']);

/** The phases in stages: consecutive concurrent phases form one stage, every other phase is a stage of its own. */
export function stagesOf(phases: readonly Phase[], sequential = false): Phase[][] {
  const stages: Phase[][] = [];
  for (const phase of phases) {
    const last = stages[stages.length - 1];
    if (!sequential && last && CONCURRENT_PHASES.has(phase) && CONCURRENT_PHASES.has(last[0])) last.push(phase);
    else stages.push([phase]);
  }
  return stages;
}

/** Runs the phases in order (concurrent phases together, see `stagesOf`); returns one result per scenario. */
export async function runScenarios(
  context: ScenarioContext, phases: readonly Phase[] = ALL_PHASES, options: { sequential?: boolean } = {},
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const record = (result: ScenarioResult) => {
    results.push(result);
    context.onResult?.(result);
  };
  for (const stage of stagesOf(phases, options.sequential)) {
    await Promise.all(stage.map((phase) => runPhase(context, phase, record)));
  }
  return results;
}

async function runPhase(context: ScenarioContext, phase: Phase, record: (r: ScenarioResult) => void): Promise<void> {
  context.onPhase?.(phase);
  switch (phase) {
    case 'createStack': return createStack(context, record);
    case 'machines': await Promise.all(MACHINES.map((m) => runMachine(context, m.id, m.expected).then(record))); return;
    case 'chain': return record(await runChain(context));
    case 'updates': return updates(context, record);
    case 'failures': return failures(context, record);
    case 'reconciler': for (const result of await reconcilerScenarios(context.cloud, context.example)) record(result); return;
    case 'deleteStack': return deleteStack(context, record);
  }
}

// -------------------------------------------------------------------------------------------------------------------
// Custom resources
// -------------------------------------------------------------------------------------------------------------------
async function exists(context: ScenarioContext, sql: string): Promise<boolean> {
  const result = await context.cloud.redshift.query(DATABASE, sql);
  return result.rows[0]?.[0] === 't';
}

const relationExists = (name: string) => `select to_regclass('${name}') is not null`;
const roleExists = (name: string) => `select exists(select 1 from pg_roles where rolname = '${name}')`;
const procedureExists = (name: string) => `select to_regprocedure('${name}') is not null`;

/** What each example custom resource leaves in the database. */
const CREATED: Record<string, { what: string; check: string }> = {
  rsslowprocedure: { what: 'procedure public.sp_wait exists', check: procedureExists('public.sp_wait(int)') },
  rstable: { what: 'table public.my_table exists', check: relationExists('public.my_table') },
  rsview: { what: 'view public.my_view exists', check: relationExists('public.my_view') },
  rsgroups: { what: 'groups group_a, group_b exist', check: 'select count(*) = 2 from pg_roles where rolname in (\'group_a\', \'group_b\')' },
  rsuser2: { what: 'user user2 exists', check: roleExists('user2') },
  rscfncreateduser: {
    what: 'user cfncreated_user exists, CREATEDB, 3 connections, in group_a and group_b',
    check: 'select exists(select 1 from pg_roles r where rolname = \'cfncreated_user\' and rolcreatedb and rolconnlimit = 3 '
      + 'and (select count(*) from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid '
      + 'and g.rolname in (\'group_a\', \'group_b\')) = 2)',
  },
};

function describeOutcome(outcome: CustomResourceOutcome): string {
  const problems = outcome.problems.length ? ` [response problems: ${outcome.problems.join('; ')}]` : '';
  return `${outcome.requestType} ${outcome.status}${problems}`;
}

async function createStack(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const driver = context.cloud.cloudFormation;
  for (const wave of driver.customResourceWaves()) {
    await Promise.all(wave.map(async (logicalId) => {
      const started = performance.now();
      const outcome = await driver.create(logicalId);
      const expectation = CREATED[logicalId];
      const verified = outcome.status === 'SUCCESS' && expectation ? await exists(context, expectation.check) : outcome.status === 'SUCCESS';
      record({
        name: `${logicalId} (Create)`,
        kind: 'custom resource',
        expected: `Create SUCCESS${expectation ? `; ${expectation.what}` : ''}`,
        actual: `${describeOutcome(outcome)}${expectation ? `; ${verified ? expectation.what : `NOT: ${expectation.what}`}` : ''}`
          + (outcome.status !== 'SUCCESS' ? ` (${outcome.reason})` : ''),
        ok: outcome.status === 'SUCCESS' && outcome.problems.length === 0 && verified,
        durationMs: performance.now() - started,
      });
    }));
  }
}

async function updates(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const driver = context.cloud.cloudFormation;
  // manage_user: rename, fewer groups, no CREATEDB, another connection limit — several ALTERs in one transaction.
  {
    const started = performance.now();
    const before = driver.templateProperties('rscfncreateduser');
    const next: Record<string, Json> = {
      ...before,
      username: 'cfncreated_user_renamed',
      create_db: false,
      connection_limit: 5,
      groups: ['group_a'],
      password: 'md5b7b7b5f1b5a2a1c7e1e8fb36e3f1c9a1',
    };
    const outcome = await driver.update('rscfncreateduser', next);
    const verified = outcome.status === 'SUCCESS' && await exists(context,
      'select exists(select 1 from pg_roles r where rolname = \'cfncreated_user_renamed\' and not rolcreatedb and rolconnlimit = 5 '
      + 'and (select array_agg(g.rolname::text) from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid) = array[\'group_a\'])')
      && !await exists(context, roleExists('cfncreated_user'));
    record({
      name: 'rscfncreateduser (Update: rename, groups, options)',
      kind: 'custom resource',
      expected: 'Update SUCCESS; user renamed, NOCREATEDB, 5 connections, only in group_a',
      actual: `${describeOutcome(outcome)}; ${verified ? 'user renamed, NOCREATEDB, 5 connections, only in group_a' : `database not as expected (${outcome.reason})`}`,
      ok: outcome.status === 'SUCCESS' && outcome.problems.length === 0 && verified,
      durationMs: performance.now() - started,
    });
  }
  await Promise.all([sqlWithoutOnUpdate(context, record), sqlWithOnUpdate(context, record)]);
}

/** The statements the tasker started for a custom resource (named after its logical id) since `from`. */
function statementsFor(context: ScenarioContext, logicalId: string, from: number) {
  return context.cloud.redshift.statements().slice(from).filter((statement) => (statement.statementName ?? '').startsWith(`${logicalId}:`));
}

/** RedshiftSql without OnUpdate: a changed OnCreate runs nothing and keeps the object (the Update must not fail the stack). */
async function sqlWithoutOnUpdate(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const driver = context.cloud.cloudFormation;
  const started = performance.now();
  const from = context.cloud.redshift.statements().length;
  const before = driver.templateProperties('rstable');
  const outcome = await driver.update('rstable', { ...before, OnCreate: 'create table public.my_table(id int, value varchar(100))' });
  const kept = await exists(context, relationExists('public.my_table'));
  const ran = statementsFor(context, 'rstable', from).length;
  record({
    name: 'rstable (RedshiftSql Update without OnUpdate: changed OnCreate)',
    kind: 'custom resource',
    expected: 'Update SUCCESS without SQL; table kept',
    actual: `${describeOutcome(outcome)}; ${ran} statements; ${kept ? 'table kept' : 'table missing'}`,
    ok: outcome.status === 'SUCCESS' && ran === 0 && kept && outcome.problems.length === 0,
    durationMs: performance.now() - started,
  });
}

/** RedshiftSql with OnUpdate: an Update runs it; a failing one is FAILED with Redshift's error, and its rollback restores. */
async function sqlWithOnUpdate(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const driver = context.cloud.cloudFormation;
  const viewColumns = 'select count(*)::text from information_schema.columns where table_schema = \'public\' and table_name = \'my_view\'';
  const columns = async () => (await context.cloud.redshift.query(DATABASE, viewColumns)).rows[0]?.[0];
  {
    const started = performance.now();
    const from = context.cloud.redshift.statements().length;
    const view = 'create or replace view public.my_view as select id, value from public.my_table';
    const outcome = await driver.update('rsview', { ...driver.templateProperties('rsview'), OnCreate: view, OnUpdate: view });
    const ran = statementsFor(context, 'rsview', from).map((statement) => statement.status).join(', ');
    const count = await columns();
    record({
      name: 'rsview (RedshiftSql Update: OnUpdate)',
      kind: 'custom resource',
      expected: 'Update SUCCESS; OnUpdate ran (FINISHED); the view has 2 columns',
      actual: `${describeOutcome(outcome)}; OnUpdate ${ran || 'not run'}; the view has ${count} columns`,
      ok: outcome.status === 'SUCCESS' && ran === 'FINISHED' && count === '2' && outcome.problems.length === 0,
      durationMs: performance.now() - started,
    });
  }
  {
    const started = performance.now();
    const from = context.cloud.redshift.statements().length;
    const before = driver.templateProperties('rsview');
    const broken = 'create or replace view public.my_view as select id, no_such_column from public.my_table';
    const outcome = await driver.update('rsview', { ...before, OnUpdate: broken });
    const ran = statementsFor(context, 'rsview', from).map((statement) => statement.status).join(', ');
    const count = await columns();
    record({
      name: 'rsview (RedshiftSql Update with failing SQL, then its rollback)',
      kind: 'custom resource',
      expected: 'Update FAILED with Redshift\'s error; the rollback Update runs the previous OnUpdate: SUCCESS; the view unchanged',
      actual: `${describeOutcome(outcome)}: ${truncate(outcome.reason, 120)}; statements ${ran}; the view has ${count} columns`,
      ok: outcome.status === 'FAILED' && /no_such_column/.test(outcome.reason) && /rollback Update: SUCCESS/.test(outcome.reason)
        && ran === 'FAILED, FINISHED' && count === '2' && outcome.problems.length === 0,
      durationMs: performance.now() - started,
    });
  }
}

async function failures(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const driver = context.cloud.cloudFormation;
  const taskerToken = driver.templateProperties('rstable').ServiceToken;
  const manageUserToken = driver.templateProperties('rscfncreateduser').ServiceToken;
  // Failing SQL: the tasker starts it, Redshift fails it, the tasker answers FAILED with Redshift's error text; the
  // rollback Delete of the failed-Create id runs no SQL (its OnDelete would drop a table the stack does not own).
  {
    const started = performance.now();
    const from = context.cloud.redshift.statements().length;
    const outcome = await driver.create('rs_broken_table', {
      like: 'rstable',
      properties: {
        ServiceToken: taskerToken,
        OnCreate: 'create table public.broken_example(id int, value varchar(50)',
        OnDelete: 'drop table if exists public.my_table',
      },
    });
    const readable = /syntax error/.test(outcome.reason);
    const ran = statementsFor(context, 'rs_broken_table', from).length;
    record({
      name: 'rs_broken_table (RedshiftSql Create with failing SQL)',
      kind: 'custom resource',
      expected: 'Create FAILED with Redshift\'s error as reason; rollback Delete SUCCESS without SQL',
      actual: `${describeOutcome(outcome)}: ${truncate(outcome.reason, 160)}; ${ran} statement(s)`,
      ok: outcome.status === 'FAILED' && readable && /rollback Delete: SUCCESS/.test(outcome.reason) && ran === 1
        && outcome.problems.length === 0,
      durationMs: performance.now() - started,
    });
  }
  // Invalid properties: the custom-resource function refuses them itself; no SQL runs.
  {
    const started = performance.now();
    const statementsBefore = context.cloud.redshift.statements().length;
    // Other phases may run statements meanwhile: only this resource's count (named after it, or about its user).
    const ranForIt = () => context.cloud.redshift.statements().slice(statementsBefore).some((statement) =>
      (statement.statementName ?? '').startsWith('rs_plaintext_password_user')
      || [statement, ...statement.subStatements].some((unit) => unit.queryString.includes('plain_user')));
    const outcome = await driver.create('rs_plaintext_password_user', {
      like: 'rscfncreateduser',
      properties: { ServiceToken: manageUserToken, username: 'plain_user', password: 'not-a-hash' },
    });
    const noSql = !ranForIt();
    record({
      name: 'rs_plaintext_password_user (Create with invalid properties)',
      kind: 'custom resource',
      expected: 'Create FAILED (invalid properties), no SQL run; rollback Delete SUCCESS',
      actual: `${describeOutcome(outcome)}: ${truncate(outcome.reason, 160)}${noSql ? '' : ' — SQL ran!'}`,
      ok: outcome.status === 'FAILED' && /Invalid properties/.test(outcome.reason) && noSql && /rollback Delete: SUCCESS/.test(outcome.reason),
      durationMs: performance.now() - started,
    });
  }
}

async function deleteStack(context: ScenarioContext, record: (r: ScenarioResult) => void): Promise<void> {
  const started = performance.now();
  const outcomes = await context.cloud.cloudFormation.deleteStack();
  const remaining = [];
  for (const [what, check] of [
    ['procedure', procedureExists('public.sp_wait(int)')], ['table', relationExists('public.my_table')], ['view', relationExists('public.my_view')],
    ['users', 'select exists(select 1 from pg_roles where rolname in (\'user2\', \'cfncreated_user\', \'cfncreated_user_renamed\', \'group_a\', \'group_b\'))'],
  ] as const) {
    if (await exists(context, check)) remaining.push(what);
  }
  const failed = outcomes.filter((o) => o.status !== 'SUCCESS' || o.problems.length);
  record({
    name: `all ${outcomes.length} custom resources (Delete)`,
    kind: 'custom resource',
    expected: 'Delete SUCCESS for each; every object dropped',
    actual: `${outcomes.length - failed.length}/${outcomes.length} SUCCESS${failed.length ? ` (failed: ${failed.map((o) => `${o.logicalId}: ${o.reason}`).join('; ')})` : ''}; `
      + (remaining.length ? `still there: ${remaining.join(', ')}` : 'every object dropped'),
    ok: failed.length === 0 && remaining.length === 0 && outcomes.length > 0,
    durationMs: performance.now() - started,
  });
}
