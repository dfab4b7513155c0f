/**
 * The state-machine scenarios of the local run: every example machine on its own, and the chained machine running
 * them as nested executions, each checked against its expected outcome with evidence from the local stand-ins
 * (statement states in the Data API, the states an execution went through).
 */
import { Json } from './cloudformation/template';
import type { ScenarioContext, ScenarioResult } from './scenarios';
import { ExecutionOutcome } from './stepfunctions/runner';
import {
  CancellingStatementMachine, ChainedMachine, ConcurrentWritersMachine, DEFAULT_WRITERS, EXPORTED_ROWS, ExportResultMachine,
  ParallelNoConcurrencyMachine, PollingMachine, ROWS_PER_BATCH, RowsChoiceMachine, SessionStagingMachine, SingleFailureMachine,
  SingleSuccessMachine, SuccessAndFailMachine,
} from '../example/machines';

/** The example machines, run on their own, with what each must show. */
export const MACHINES: Array<{ id: string; expected: string }> = [
  { id: SingleSuccessMachine.ID, expected: 'SUCCEEDED: statement FINISHED, result read with LATEST' },
  { id: SingleFailureMachine.ID, expected: 'SUCCEEDED: FAILED caught, statement described as FAILED with Redshift\'s error' },
  { id: SuccessAndFailMachine.ID, expected: 'SUCCEEDED (JSONata): first statement FINISHED, the first one\'s result read, second FAILED and caught' },
  { id: PollingMachine.ID, expected: 'SUCCEEDED: statement polled (DescribeStatement) until FINISHED' },
  { id: CancellingStatementMachine.ID, expected: 'SUCCEEDED: States.Timeout, statement cancelled, verified ABORTED' },
  { id: ParallelNoConcurrencyMachine.ID, expected: 'SUCCEEDED: exactly 1 of 10 branches ran the statement, 9 got ConcurrentExecution' },
  {
    id: SessionStagingMachine.ID,
    expected: 'SUCCEEDED: 3 statements in one session (temp table created, filled, merged), VACUUM and ANALYZE in an AUTO_COMMIT batch',
  },
  {
    id: ConcurrentWritersMachine.ID,
    expected: `SUCCEEDED: ${DEFAULT_WRITERS} concurrent writers on one table, each FINISHED once; serialization conflicts FAILED with 1023 and retried`,
  },
  { id: RowsChoiceMachine.ID, expected: 'SUCCEEDED: the rows came with the callback as plain objects, the Choice took answer = 3' },
  {
    id: ExportResultMachine.ID,
    expected: `SUCCEEDED: ${EXPORTED_ROWS} rows written to S3 as JSON Lines, read from S3 by a Distributed Map in `
      + `${EXPORTED_ROWS / ROWS_PER_BATCH} batches of ${ROWS_PER_BATCH} (child executions)`,
  },
];

type Output = Record<string, Json> | undefined;

function statementsOf(context: ScenarioContext, executionArn: string) {
  return context.cloud.redshift.statements().filter((s) => s.statementName?.startsWith(`${executionArn}:`));
}

function entered(context: ScenarioContext, executionArn: string, pattern: RegExp): number {
  return context.trace.filter((e) => e.executionArn === executionArn && e.kind === 'StateEntered' && pattern.test(e.state ?? '')).length;
}

/** Checks a finished execution of an example machine; returns what was observed and whether it is right. */
function checkMachine(context: ScenarioContext, id: string, outcome: ExecutionOutcome): { actual: string; ok: boolean } {
  const output = outcome.output as Output;
  const statements = statementsOf(context, outcome.executionArn);
  const states = statements.map((s) => s.status).join(', ') || 'no statement';
  if (outcome.status !== 'SUCCEEDED') {
    return { actual: `${outcome.status}: ${outcome.error}: ${truncate(outcome.cause ?? '', 160)}`, ok: false };
  }
  switch (id) {
    case SingleSuccessMachine.ID: {
      const result = output?.executionResult as { Records?: Array<Array<{ stringValue?: string }>>; TotalNumRows?: number } | undefined;
      const value = result?.Records?.[0]?.[0]?.stringValue ?? '';
      const ok = states === 'FINISHED' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(value);
      return { actual: `SUCCEEDED: statement ${states}, LATEST result ${JSON.stringify(value)}`, ok };
    }
    case SingleFailureMachine.ID: {
      const details = output?.executionDetails as { Status?: string; Error?: string } | undefined;
      const ok = states === 'FAILED' && details?.Status === 'FAILED' && /function get_date\(\) does not exist/.test(details.Error ?? '');
      return { actual: `SUCCEEDED: statement ${states}, described ${details?.Status}: ${details?.Error}`, ok };
    }
    case SuccessAndFailMachine.ID: {
      // JSONata: the Catch's output is the error output ({ Error, Cause }).
      const error = output?.Error as string | undefined;
      const read = entered(context, outcome.executionArn, /^ReadTheFirstStatementsResult$/);
      const ok = states === 'FINISHED, FAILED' && error === 'FAILED' && read === 1;
      return { actual: `SUCCEEDED: statements ${states}, the first one's result read, caught ${error}`, ok };
    }
    case PollingMachine.ID: {
      const status = (output?.executionDetails as { Status?: string } | undefined)?.Status;
      const polls = entered(context, outcome.executionArn, /^checkExecutionStateRSTask$/);
      return { actual: `SUCCEEDED: ${polls} polls, statement ${status}`, ok: status === 'FINISHED' && polls >= 2 };
    }
    case CancellingStatementMachine.ID: {
      const error = (output?.error as { Error?: string } | undefined)?.Error;
      const status = (output?.executionDetails as { Status?: string } | undefined)?.Status;
      const ok = error === 'States.Timeout' && status === 'ABORTED' && states === 'ABORTED';
      return { actual: `SUCCEEDED: ${error}, statement ${states}, verified ${status}`, ok };
    }
    case ParallelNoConcurrencyMachine.ID: {
      const ran = entered(context, outcome.executionArn, /^successParallel\d+$/);
      const refused = entered(context, outcome.executionArn, /^successAlreadyRunning\d+$/);
      const ok = ran === 1 && refused === 9 && statements.length === 1 && states === 'FINISHED';
      return { actual: `SUCCEEDED: ${ran} branch ran (${statements.length} statement ${states}), ${refused} got ConcurrentExecution`, ok };
    }
    case SessionStagingMachine.ID: {
      const sessionId = (output?.session as { sessionId?: string } | undefined)?.sessionId;
      // Rows the merge changed: the day's total inserted (1), and deleted first when an earlier run had written it.
      const merged = (output?.merged as { rows?: number } | undefined)?.rows;
      const inSession = statements.filter((s) => s.sessionId !== undefined && s.sessionId === sessionId).length;
      const vacuum = statements.find((s) => s.executionMode === 'AUTO_COMMIT');
      const ok = states === 'FINISHED, FINISHED, FINISHED, FINISHED' && inSession === 3 && (merged === 1 || merged === 2)
        && vacuum !== undefined && vacuum.sessionId === undefined;
      return {
        actual: `SUCCEEDED: ${inSession} statements in session ${sessionId?.slice(0, 8) ?? 'none'}…, merge changed ${merged} row(s), `
          + `maintenance ${vacuum ? `${vacuum.executionMode} ${vacuum.status}` : 'not run'} (statements ${states})`,
        ok,
      };
    }
    case ConcurrentWritersMachine.ID: {
      const { finished, conflicts, retries } = writerAttempts(statements);
      const others = statements.length - finished.length - conflicts;
      const ok = finished.length === DEFAULT_WRITERS && new Set(finished).size === DEFAULT_WRITERS && others === 0;
      return {
        actual: `SUCCEEDED: ${new Set(finished).size} writers FINISHED, ${conflicts} serialization conflicts retried `
          + `(retries per writer: ${retries.join(', ')})${others > 0 ? `; ${others} other statements` : ''}`,
        ok,
      };
    }
    case RowsChoiceMachine.ID: {
      const read = output?.read as { rows?: Array<Record<string, Json>>; columns?: Array<{ name: string; type: string }> } | undefined;
      const row = read?.rows?.[0];
      const took = entered(context, outcome.executionArn, /^RowsSaidThree$/);
      const ok = states === 'FINISHED' && took === 1 && row?.answer === 3 && row?.region === 'EMEA'
        && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(String(row?.checked_at)) && read?.rows?.length === 1;
      return { actual: `SUCCEEDED: statement ${states}, rows ${truncate(JSON.stringify(read?.rows ?? null), 120)}, Choice ${took ? 'took answer = 3' : 'did not'}`, ok };
    }
    case ExportResultMachine.ID: {
      const exported = (output?.exported as { export?: { bucket?: string; key?: string; rows?: number } } | undefined)?.export;
      const processed = output?.processed as { rows?: number; batches?: number; vipsPerBatch?: number[] } | undefined;
      // The Distributed Map read the object from the S3 stand-in: one child execution per batch, and its map run traced.
      const children = [...context.cloud.stepFunctions.executions.values()].filter((e) => e.parentExecutionArn === outcome.executionArn);
      const mapRun = context.trace.find((e) => e.executionArn === outcome.executionArn && e.kind === 'MapRunSucceeded');
      const batches = EXPORTED_ROWS / ROWS_PER_BATCH;
      const vips = (processed?.vipsPerBatch ?? []).reduce((sum, n) => sum + n, 0);
      const ok = states === 'FINISHED' && exported?.rows === EXPORTED_ROWS && exported.key?.startsWith(ExportResultMachine.KEY_PREFIX) === true
        && processed?.rows === EXPORTED_ROWS && processed.batches === batches && vips === Math.floor(EXPORTED_ROWS / 3)
        && children.length === batches && children.every((c) => c.status === 'SUCCEEDED') && mapRun !== undefined;
      return {
        actual: `SUCCEEDED: ${exported?.rows} rows in s3://${exported?.bucket}/${exported?.key}; the Distributed Map read `
          + `${processed?.rows} rows from S3 in ${processed?.batches} batches (${children.length} child executions, ${vips} VIP rows)`,
        ok,
      };
    }
    default:
      return { actual: outcome.status, ok: true };
  }
}

/**
 * The attempts of the concurrent writers: the writer of each FINISHED statement (its `writer` parameter), the number
 * of statements that failed with a serialization conflict (error 1023), and the retries of each writer.
 */
export function writerAttempts(statements: ReturnType<typeof statementsOf>): { finished: string[]; conflicts: number; retries: number[] } {
  const writerOf = (s: (typeof statements)[number]) => s.parameters?.find((p) => p.name === 'writer')?.value ?? '?';
  const finished = statements.filter((s) => s.status === 'FINISHED').map(writerOf);
  const conflicted = statements.filter((s) => s.status === 'FAILED' && /\b1023\b/.test(s.error ?? ''));
  const retries = [...new Set(finished)].sort().map((writer) => conflicted.filter((s) => writerOf(s) === writer).length);
  return { finished, conflicts: conflicted.length, retries };
}

export async function runMachine(context: ScenarioContext, id: string, expected: string): Promise<ScenarioResult> {
  const started = performance.now();
  const arn = context.cloud.stateMachineArn(context.example.machineLogicalIds[id]);
  const { result } = context.cloud.stepFunctions.startExecution(arn, {}, { name: `${id}-${Date.now()}` });
  const outcome = await result;
  const { actual, ok } = checkMachine(context, id, outcome);
  return { name: id, kind: 'state machine', expected, actual, ok, durationMs: performance.now() - started };
}

export async function runChain(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const arn = context.cloud.stateMachineArn(context.example.machineLogicalIds[ChainedMachine.ID]);
  const { executionArn, result } = context.cloud.stepFunctions.startExecution(arn, {}, { name: `chain-${Date.now()}` });
  const outcome = await result;
  // The nested executions, with each one checked like its machine on its own.
  const nested = [...context.cloud.stepFunctions.executions.values()].filter((e) => e.parentExecutionArn === executionArn);
  const byMachine = MACHINES.map(({ id }) => {
    const machineName = context.example.machineLogicalIds[id];
    const execution = nested.find((e) => e.executionArn.includes(`:execution:${machineName}:`));
    return { id, execution, check: execution ? checkMachine(context, id, execution) : { actual: 'not run', ok: false } };
  });
  const good = byMachine.filter((m) => m.check.ok).length;
  return {
    name: `${ChainedMachine.ID} (startExecution.sync:2)`,
    kind: 'state machine',
    expected: `SUCCEEDED: the ${MACHINES.length} machines run one after the other, each as expected`,
    actual: `${outcome.status}: ${good}/${MACHINES.length} nested executions as expected`
      + (good < MACHINES.length ? ` (${byMachine.filter((m) => !m.check.ok).map((m) => `${m.id}: ${m.check.actual}`).join('; ')})` : ''),
    ok: outcome.status === 'SUCCEEDED' && good === MACHINES.length,
    durationMs: performance.now() - started,
  };
}

/** `text` on one line, cut to `max` characters. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}
