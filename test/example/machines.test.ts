/**
 * The example state machines, read from the synthesized template: their states, payloads, catches, retries and
 * timeouts; then run by an ASL interpreter (aws-local-stepfunctions) with the tasker replaced by local handlers, to
 * prove the paths each machine takes (success, caught FAILED, cancel on timeout, polling, exactly one singleton).
 */
import { definitionOf, logicalId, synthesizeExample } from './support';
import {
  BranchOutcome, CANCELLED_STATEMENT_SECONDS, CancellingStatementMachine, ChainedMachine, ConcurrentWritersMachine, DEFAULT_WRITERS,
  FAILING_STATEMENT, PARALLEL_BRANCHES, DEFAULT_TIMING, ExportResultMachine, ParallelNoConcurrencyMachine, PollingMachine,
  RowsChoiceMachine, SessionStagingMachine,
  SUCCEEDING_STATEMENT, SingleFailureMachine, SingleSuccessMachine, SuccessAndFailMachine, slowStatement,
} from '../../example/machines';
import { asl as interpreter } from '../../local/stepfunctions/asl';
import { Action, ErrorName, Field, LATEST } from '../../src/contract';
import { CONFLICT_RETRY, DATA_API_RETRY, LAMBDA_SERVICE_RETRY, aslErrors } from '../support/asl';

const { integ, resources } = synthesizeExample();
const fnArn = (fn: unknown) => `\${${logicalId(integ.stack, fn)}.Arn}`;
const RSTASK = fnArn(integ.rsTask.lambdaFunction);
const RSTASK_USER2 = fnArn(integ.rsTaskUser2.lambdaFunction);
const CALLBACK_RESOURCE = 'arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken';
const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:Example:run-1';

const definition = (id: string) => definitionOf(resources, logicalId(integ.stack, integ.stateMachines[id]));

/** Every state of a definition, including those inside Parallel branches. */
function allStates(asl: any): Record<string, any> {
  const states: Record<string, any> = {};
  for (const [name, state] of Object.entries<any>(asl.States)) {
    states[name] = state;
    for (const branch of state.Branches ?? []) Object.assign(states, allStates(branch));
  }
  return states;
}

/** The names of the states a state can go to next (Next, Default, Choices, Catch). */
function successors(state: any): string[] {
  return [state.Next, state.Default, ...(state.Choices ?? []).map((c: any) => c.Next), ...(state.Catch ?? []).map((c: any) => c.Next)]
    .filter((next): next is string => typeof next === 'string');
}

/** A callback task's expected shape (`RedshiftSqlTask`'s retries). */
function callbackTask(functionArn: string, payload: Record<string, unknown>, timeoutSeconds: number) {
  return expect.objectContaining({
    Type: 'Task',
    Resource: CALLBACK_RESOURCE,
    Parameters: {
      FunctionName: functionArn,
      Payload: { [`${Field.TASK_TOKEN}.$`]: '$$.Task.Token', [`${Field.EXECUTION_ARN}.$`]: '$$.Execution.Id', ...payload },
    },
    TimeoutSeconds: timeoutSeconds,
    Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY, CONFLICT_RETRY],
  });
}

/** A hand-written request task's expected shape (`tasks.LambdaInvoke`, `payloadResponseOnly`: the function's answer). */
function requestTask(functionArn: string, parameters: Record<string, unknown>) {
  return expect.objectContaining({
    Type: 'Task', Resource: functionArn, Parameters: parameters, TimeoutSeconds: 60, Retry: [LAMBDA_SERVICE_RETRY],
  });
}

/** A direct invoke as `RedshiftStatementTask` (or `RedshiftSqlTask` without callback) renders it: both retries. */
function statementTask(functionArn: string, parameters: Record<string, unknown>) {
  return expect.objectContaining({ Type: 'Task', Resource: functionArn, Parameters: parameters, Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY] });
}

/** A JSONata callback task's expected shape (`RedshiftSqlTask.jsonata`). */
function jsonataCallbackTask(functionArn: string, payload: Record<string, unknown>, timeoutSeconds: number) {
  return expect.objectContaining({
    Type: 'Task',
    Resource: CALLBACK_RESOURCE,
    Arguments: {
      FunctionName: functionArn,
      Payload: { ...payload, [Field.TASK_TOKEN]: '{% $states.context.Task.Token %}', [Field.EXECUTION_ARN]: '{% $states.context.Execution.Id %}' },
    },
    TimeoutSeconds: timeoutSeconds,
    Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY, CONFLICT_RETRY],
  });
}

const latest = (action: string) => ({ [Field.STATEMENT_ID]: LATEST, [`${Field.EXECUTION_ARN}.$`]: '$$.Execution.Id', [Field.ACTION]: action });
const catchTo = (errors: string[], next: string) => ({ ErrorEquals: errors, ResultPath: '$.error', Next: next });

// ---------------------------------------------------------------------------------------------
// Running a definition locally
// ---------------------------------------------------------------------------------------------

/** An error as the tasker (or Step Functions) raises it: Catch and Retry match on `name`. */
function error(name: string, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), { name });
}

type Handler = (input: any) => Promise<unknown>;

interface RunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: any;
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order. */
  readonly entered: string[];
}

/** The definition with its placeholders replaced by ARNs of a deployed stack. */
function deployed(asl: any): any {
  return JSON.parse(JSON.stringify(asl)
    .replace(/\$\{AWS::Partition\}/g, 'aws')
    .replace(/\$\{([A-Za-z0-9]+)\.Arn\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1')
    .replace(/\$\{([A-Za-z0-9]+)\}/g, 'arn:aws:states:eu-west-1:123456789012:stateMachine:$1'));
}

async function run(asl: any, handlers: Record<string, Handler>, input: unknown = {}): Promise<RunResult> {
  const machine = new interpreter.StateMachine(deployed(asl), { validationOptions: { checkPaths: false, checkArn: false } } as any);
  const waits = Object.fromEntries(Object.entries(allStates(asl)).filter(([, s]) => s.Type === 'Wait').map(([name]) => [name, 0]));
  const retries = Object.fromEntries(Object.entries(allStates(asl)).filter(([, s]) => s.Retry).map(([name]) => [name, 0]));
  const execution = machine.run(input as any, {
    overrides: { taskResourceLocalHandlers: handlers as any, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: { Execution: { Id: EXECUTION_ARN } as any, Task: { Token: 'task-token' } } as any,
  });
  const entered: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if ((event as any).type === 'StateEntered') entered.push((event as any).state.name);
    }
  })();
  try {
    const output = await execution.result;
    await collect;
    return { status: 'SUCCEEDED', output, entered };
  } catch (failure) {
    await collect.catch(() => undefined);
    // The interpreter wraps the execution's error (an ExecutionError whose cause is the error a Fail state or a task raised).
    const { name, message } = ((failure as Error).cause ?? failure) as Error;
    return { status: 'FAILED', error: name, cause: message, entered };
  }
}

const completionEvent = (state: string) => ({ source: 'aws.redshift-data', detail: { state, statementId: 'statement-1' } });
const returns = (value: unknown): Handler => async () => value;
const throws = (name: string): Handler => async () => { throw error(name); };
/** A handler that returns the given values one after the other (the last one from then on), recording its inputs. */
function sequence(...values: unknown[]): Handler & { inputs: any[] } {
  const inputs: any[] = [];
  const handler = async (input: any) => {
    inputs.push(input);
    return values[Math.min(inputs.length - 1, values.length - 1)];
  };
  return Object.assign(handler, { inputs });
}

// ---------------------------------------------------------------------------------------------

describe('every example machine', () => {
  test('waits for callbacks with TimeoutSeconds, never HeartbeatSeconds (nothing sends heartbeats), and has an overall timeout', () => {
    for (const id of Object.keys(integ.stateMachines)) {
      const asl = definition(id);
      expect(asl.TimeoutSeconds).toBeGreaterThan(0);
      for (const [name, state] of Object.entries(allStates(asl))) {
        expect({ name, heartbeat: state.HeartbeatSeconds }).toEqual({ name, heartbeat: undefined });
        if (String(state.Resource).endsWith('.waitForTaskToken')) expect({ name, timeout: state.TimeoutSeconds > 0 }).toEqual({ name, timeout: true });
      }
    }
  });

  test('is valid ASL (asl-validator)', () => {
    for (const id of Object.keys(integ.stateMachines)) {
      expect({ id, errors: aslErrors(deployed(definition(id))) }).toEqual({ id, errors: '' });
    }
  });

  test('catches every task error (no task fails the execution without a decision; the chain fails with its first failing machine)', () => {
    for (const id of Object.keys(integ.stateMachines).filter((name) => name !== ChainedMachine.ID)) {
      for (const [name, state] of Object.entries(allStates(definition(id)))) {
        if (state.Type !== 'Task') continue;
        const caught = (state.Catch ?? []).flatMap((c: any) => c.ErrorEquals);
        expect({ id, name, catchesAll: caught.includes('States.ALL') }).toEqual({ id, name, catchesAll: true });
      }
    }
  });

  test('has no loop without a Wait state (a poll never spins)', () => {
    for (const id of Object.keys(integ.stateMachines)) {
      const states = allStates(definition(id));
      // Depth-first search for a cycle that avoids Wait states.
      const visiting = new Set<string>();
      const done = new Set<string>();
      const busyLoop = (name: string): boolean => {
        if (states[name].Type === 'Wait') return false;
        if (visiting.has(name)) return true;
        if (done.has(name)) return false;
        visiting.add(name);
        const found = successors(states[name]).some(busyLoop);
        visiting.delete(name);
        done.add(name);
        return found;
      };
      expect({ id, busyLoop: Object.keys(states).some(busyLoop) }).toEqual({ id, busyLoop: false });
    }
  });
});

describe(`${SingleSuccessMachine.ID} (single success, then the result of LATEST)`, () => {
  const asl = definition(SingleSuccessMachine.ID);

  test('states', () => {
    expect(asl.StartAt).toBe('SimpleSuccessfullRsTaskProcedure');
    // A hand-written tasks.LambdaInvoke with the same retries as RedshiftSqlTask's.
    expect(asl.States.SimpleSuccessfullRsTaskProcedure).toEqual(callbackTask(RSTASK, { [Field.SQL_STATEMENT]: SUCCEEDING_STATEMENT }, 3600));
    expect(asl.States.SimpleSuccessfullRsTaskProcedure).toEqual(expect.objectContaining({
      ResultPath: '$.executionDetails', Next: 'simpleSuccessfullRsTaskGetResult', Catch: [catchTo(['States.ALL'], 'Failure1')],
    }));
    expect(asl.States.simpleSuccessfullRsTaskGetResult).toEqual(requestTask(RSTASK, latest(Action.GET_STATEMENT_RESULT)));
    expect(asl.States.simpleSuccessfullRsTaskGetResult).toEqual(expect.objectContaining({
      ResultPath: '$.executionResult', Next: 'Succeed1', Catch: [catchTo(['States.ALL'], 'Failure1')],
    }));
    expect(asl.States.Failure1).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(asl.States.Succeed1).toEqual({ Type: 'Succeed' });
  });

  test('runs: the statement finishes, then its result is read with LATEST and this execution\'s ARN', async () => {
    const getResult = sequence({ Records: [[{ stringValue: '2026-11-24 12:00:00' }]], TotalNumRows: 1 });
    const result = await run(asl, {
      SimpleSuccessfullRsTaskProcedure: returns(completionEvent('FINISHED')),
      simpleSuccessfullRsTaskGetResult: getResult,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output.executionDetails.detail.state).toBe('FINISHED');
    expect(result.output.executionResult.TotalNumRows).toBe(1);
    expect(getResult.inputs).toEqual([{ statementId: LATEST, executionArn: EXECUTION_ARN, action: Action.GET_STATEMENT_RESULT }]);
  });

  test('runs: a statement the Data API refused for now (too many active statements) is started again', async () => {
    let attempts = 0;
    const start: Handler = async () => {
      attempts += 1;
      if (attempts < 3) throw error('ActiveStatementsExceededException');
      return completionEvent('FINISHED');
    };
    const result = await run(asl, { SimpleSuccessfullRsTaskProcedure: start, simpleSuccessfullRsTaskGetResult: returns({ TotalNumRows: 0 }) });
    expect(result.status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);
  });

  test('runs: a failed statement fails the execution with the task\'s error', async () => {
    const result = await run(asl, {
      SimpleSuccessfullRsTaskProcedure: throws(ErrorName.STATEMENT_FAILED), simpleSuccessfullRsTaskGetResult: returns({}),
    });
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: ErrorName.STATEMENT_FAILED }));
    expect(result.entered).not.toContain('simpleSuccessfullRsTaskGetResult');
  });
});

describe(`${SingleFailureMachine.ID} (failure caught as FAILED, then described)`, () => {
  const asl = definition(SingleFailureMachine.ID);

  test('states: the second tasker (user2) runs the invalid statement', () => {
    expect(asl.States.SimpleFailureRsTaskProcedure).toEqual(callbackTask(RSTASK_USER2, { [Field.SQL_STATEMENT]: FAILING_STATEMENT }, 3600));
    expect(asl.States.SimpleFailureRsTaskProcedure).toEqual(expect.objectContaining({
      Next: 'testFailed',
      Catch: [catchTo([ErrorName.STATEMENT_FAILED], 'simpleFailureDescribeTaskProcedure'), catchTo(['States.ALL'], 'testFailed')],
    }));
    expect(asl.States.simpleFailureDescribeTaskProcedure).toEqual(statementTask(RSTASK_USER2, latest(Action.DESCRIBE_STATEMENT)));
    expect(asl.States.verifyStatementFailed).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.executionDetails.Status', StringEquals: 'FAILED', Next: 'testSucceeded' }],
      Default: 'testFailed',
    });
  });

  test('runs: FAILED is caught and the statement is described as FAILED', async () => {
    const describe_ = sequence({ Status: 'FAILED', Error: 'ERROR: function get_date() does not exist' });
    const result = await run(asl, {
      SimpleFailureRsTaskProcedure: throws(ErrorName.STATEMENT_FAILED), simpleFailureDescribeTaskProcedure: describe_,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output.error.Error).toBe(ErrorName.STATEMENT_FAILED);
    expect(describe_.inputs).toEqual([{ statementId: LATEST, executionArn: EXECUTION_ARN, action: Action.DESCRIBE_STATEMENT }]);
  });

  test.each([
    ['the invalid statement succeeds', { SimpleFailureRsTaskProcedure: returns(completionEvent('FINISHED')), simpleFailureDescribeTaskProcedure: returns({}) }],
    ['the task fails otherwise', { SimpleFailureRsTaskProcedure: throws(ErrorName.INVALID_REQUEST), simpleFailureDescribeTaskProcedure: returns({}) }],
    ['the description is not FAILED', { SimpleFailureRsTaskProcedure: throws(ErrorName.STATEMENT_FAILED), simpleFailureDescribeTaskProcedure: returns({ Status: 'FINISHED' }) }],
    ['the statement cannot be described', { SimpleFailureRsTaskProcedure: throws(ErrorName.STATEMENT_FAILED), simpleFailureDescribeTaskProcedure: throws(ErrorName.PREVIOUS_EXECUTION_NOT_FOUND) }],
  ])('runs: fails when %s', async (_, handlers) => {
    expect(await run(asl, handlers)).toEqual(expect.objectContaining({ status: 'FAILED', error: 'UnexpectedOutcome' }));
  });
});

describe(`${SuccessAndFailMachine.ID} (in JSONata: a success and its result, then an expected failure)`, () => {
  const asl = definition(SuccessAndFailMachine.ID);

  test('states', () => {
    expect(asl.QueryLanguage).toBe('JSONata');
    expect(asl.StartAt).toBe('StartRedshiftStatementAndWaitForCallback');
    expect(asl.States.StartRedshiftStatementAndWaitForCallback)
      .toEqual(jsonataCallbackTask(RSTASK, { [Field.SQL_STATEMENT]: SUCCEEDING_STATEMENT }, 3600));
    expect(asl.States.StartRedshiftStatementAndWaitForCallback.Output).toEqual({ statementId: '{% $states.result.detail.statementId %}' });
    expect(asl.States.ReadTheFirstStatementsResult).toEqual(expect.objectContaining({
      Resource: RSTASK,
      Arguments: {
        [Field.ACTION]: Action.GET_STATEMENT_RESULT,
        [Field.STATEMENT_ID]: '{% $states.input.statementId %}',
        [Field.EXECUTION_ARN]: '{% $states.context.Execution.Id %}',
      },
      Next: 'StartInvalidRedshiftStatementAndWaitForCallback',
    }));
    expect(asl.States.StartInvalidRedshiftStatementAndWaitForCallback)
      .toEqual(jsonataCallbackTask(RSTASK, { [Field.SQL_STATEMENT]: FAILING_STATEMENT }, 3600));
    expect(asl.States.StartInvalidRedshiftStatementAndWaitForCallback).toEqual(expect.objectContaining({
      Next: 'Failure',
      Catch: [{ ErrorEquals: [ErrorName.STATEMENT_FAILED], Next: 'Succeed' }, { ErrorEquals: ['States.ALL'], Next: 'Failure' }],
    }));
  });

  test.each([
    ['succeeds when the second statement fails with FAILED', returns(completionEvent('FINISHED')), throws(ErrorName.STATEMENT_FAILED), 'SUCCEEDED'],
    ['fails when the second statement succeeds', returns(completionEvent('FINISHED')), returns(completionEvent('FINISHED')), 'FAILED'],
    ['fails when the first statement fails', throws(ErrorName.STATEMENT_FAILED), throws(ErrorName.STATEMENT_FAILED), 'FAILED'],
  ])('runs: %s', async (_, first, second, status) => {
    const result = await run(asl, {
      StartRedshiftStatementAndWaitForCallback: first,
      ReadTheFirstStatementsResult: returns({ TotalNumRows: 1 }),
      StartInvalidRedshiftStatementAndWaitForCallback: second,
    });
    expect(result.status).toBe(status);
  });

  test('runs: fails when the result cannot be read', async () => {
    const result = await run(asl, {
      StartRedshiftStatementAndWaitForCallback: returns(completionEvent('FINISHED')),
      ReadTheFirstStatementsResult: throws('ValidationException'),
      StartInvalidRedshiftStatementAndWaitForCallback: throws(ErrorName.STATEMENT_FAILED),
    });
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'UnexpectedOutcome' }));
    expect(result.entered).not.toContain('StartInvalidRedshiftStatementAndWaitForCallback');
  });
});

describe(`${PollingMachine.ID} (no callback: start, then poll with describe)`, () => {
  const asl = definition(PollingMachine.ID);

  test('states: the execute request carries no task token (no completion event); the describe has a Catch', () => {
    expect(asl.States.executeBeforePolling).toEqual(statementTask(RSTASK, {
      [Field.SQL_STATEMENT]: slowStatement(DEFAULT_TIMING.polledStatementSeconds), [`${Field.EXECUTION_ARN}.$`]: '$$.Execution.Id',
    }));
    expect(asl.States.WaitBetweenPolls).toEqual({ Type: 'Wait', Seconds: 5, Next: 'checkExecutionStateRSTask' });
    expect(asl.States.checkExecutionStateRSTask).toEqual(statementTask(RSTASK, {
      [`${Field.STATEMENT_ID}.$`]: '$.executionDetails.Id', [Field.ACTION]: Action.DESCRIBE_STATEMENT, [`${Field.EXECUTION_ARN}.$`]: '$$.Execution.Id',
    }));
    expect(asl.States.checkExecutionStateRSTask.Catch).toEqual([catchTo(['States.ALL'], 'StatementFailed_')]);
    expect(asl.States.choiceExecutionResult.Default).toBe('WaitBetweenPolls');
  });

  test('runs: polls until FINISHED, describing the statement the execute returned', async () => {
    const check = sequence({ Id: 'statement-1', Status: 'SUBMITTED' }, { Id: 'statement-1', Status: 'STARTED' }, { Id: 'statement-1', Status: 'FINISHED' });
    const result = await run(asl, { executeBeforePolling: returns({ Id: 'statement-1' }), checkExecutionStateRSTask: check });
    expect(result.status).toBe('SUCCEEDED');
    expect(check.inputs).toEqual(Array(3).fill({ statementId: 'statement-1', action: Action.DESCRIBE_STATEMENT, executionArn: EXECUTION_ARN }));
    expect(result.entered.filter((name) => name === 'WaitBetweenPolls')).toHaveLength(3);
  });

  test.each(['ABORTED', 'FAILED'])('runs: fails when the statement ends %s', async (status) => {
    const result = await run(asl, { executeBeforePolling: returns({ Id: 's' }), checkExecutionStateRSTask: returns({ Id: 's', Status: status }) });
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'StatementFailed' }));
  });

  test('runs: a describe error ends in the failure state instead of failing the execution uncaught', async () => {
    const result = await run(asl, { executeBeforePolling: returns({ Id: 's' }), checkExecutionStateRSTask: throws('ValidationException') });
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'StatementFailed' }));
    expect(result.entered).toContain('StatementFailed_');
  });
});

describe(`${CancellingStatementMachine.ID} (time budget, cancel LATEST, verify ABORTED)`, () => {
  const asl = definition(CancellingStatementMachine.ID);

  test('states: a 10-second TimeoutSeconds on a 10-minute statement; cancel and describe LATEST; a Wait between checks', () => {
    expect(asl.States.startSlowQuery).toEqual(callbackTask(RSTASK, { [Field.SQL_STATEMENT]: slowStatement(CANCELLED_STATEMENT_SECONDS) }, 10));
    expect(asl.States.startSlowQuery.Catch).toEqual([catchTo(['States.Timeout'], 'cancelSlowQuery'), catchTo(['States.ALL'], 'cancelingFailed')]);
    expect(asl.States.cancelSlowQuery).toEqual(statementTask(RSTASK, latest(Action.CANCEL_STATEMENT)));
    expect(asl.States.describeCanceledSlowQuery).toEqual(statementTask(RSTASK, latest(Action.DESCRIBE_STATEMENT)));
    expect(asl.States.waitBeforeDescribingAgain).toEqual({ Type: 'Wait', Seconds: 3, Next: 'describeCanceledSlowQuery' });
  });

  test('runs: on States.Timeout it cancels, waits while the statement is still running, and succeeds on ABORTED', async () => {
    const cancel = sequence({ Status: true });
    const describe_ = sequence({ Status: 'STARTED' }, { Status: 'STARTED' }, { Status: 'ABORTED' });
    const result = await run(asl, { startSlowQuery: throws('States.Timeout'), cancelSlowQuery: cancel, describeCanceledSlowQuery: describe_ });
    expect(result.status).toBe('SUCCEEDED');
    expect(cancel.inputs).toEqual([{ statementId: LATEST, executionArn: EXECUTION_ARN, action: Action.CANCEL_STATEMENT }]);
    expect(result.entered.filter((name) => name === 'waitBeforeDescribingAgain')).toHaveLength(2);
  });

  test.each([
    ['the statement ends on its own', { startSlowQuery: returns(completionEvent('FINISHED')) }],
    ['the cancel is refused', { startSlowQuery: throws('States.Timeout'), cancelSlowQuery: returns({ Status: false }), describeCanceledSlowQuery: returns({ Status: 'STARTED' }) }],
    ['the statement finishes instead', { startSlowQuery: throws('States.Timeout'), cancelSlowQuery: returns({ Status: true }), describeCanceledSlowQuery: returns({ Status: 'FINISHED' }) }],
    ['the cancel request fails', { startSlowQuery: throws('States.Timeout'), cancelSlowQuery: throws('ValidationException') }],
  ])('runs: fails when %s', async (_, handlers) => {
    expect(await run(asl, handlers)).toEqual(expect.objectContaining({ status: 'FAILED', error: 'CancellingFailed' }));
  });
});

describe(`${ParallelNoConcurrencyMachine.ID} (executeSingletonStatement under contention)`, () => {
  const asl = definition(ParallelNoConcurrencyMachine.ID);
  const branchTasks = Array.from({ length: PARALLEL_BRANCHES }, (_, i) => `startSlowQuery${i}`);

  test('states: ten branches start the same statement with executeSingletonStatement', () => {
    // A different text than the polled statement, so the two examples never share a singleton lock.
    expect(slowStatement(DEFAULT_TIMING.singletonStatementSeconds)).not.toBe(slowStatement(DEFAULT_TIMING.polledStatementSeconds));
    const parallel = asl.States.parallelExecutions;
    expect(parallel.Branches).toHaveLength(PARALLEL_BRANCHES);
    parallel.Branches.forEach((branch: any, i: number) => {
      expect(branch.StartAt).toBe(`startSlowQuery${i}`);
      expect(branch.States[`startSlowQuery${i}`]).toEqual(callbackTask(RSTASK, {
        [Field.SQL_STATEMENT]: slowStatement(DEFAULT_TIMING.singletonStatementSeconds), [Field.ACTION]: Action.EXECUTE_SINGLETON_STATEMENT,
      }, 300));
      expect(branch.States[`startSlowQuery${i}`].Catch).toEqual([
        catchTo([ErrorName.CONCURRENT_EXECUTION], `successAlreadyRunning${i}`), catchTo(['States.ALL'], `testFail${i}`),
      ]);
    });
    expect(asl.States.checkAnyBranchRan.Parameters).toEqual({ 'anyRan.$': `States.ArrayContains($.results[*].outcome, '${BranchOutcome.RAN}')` });
    expect(asl.States.anyBranchRan).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.check.anyRan', BooleanEquals: true, Next: 'selectBranchesThatRan' }],
      Default: 'noBranchRan',
    });
    expect(asl.States.selectBranchesThatRan.Parameters).toEqual({ 'ran.$': `$.results[?(@.outcome == '${BranchOutcome.RAN}')]` });
    expect(asl.States.countBranchesThatRan.Parameters).toEqual(expect.objectContaining({ 'ran.$': 'States.ArrayLength($.check.ran)' }));
    expect(asl.States.verifyExactlyOneBranchRan.Choices).toEqual([{ Variable: '$.check.ran', NumericEquals: 1, Next: 'parallelSucceeded' }]);
  });

  /** Handlers for the ten branches: `ran` of them run the statement, the others find it running. */
  const branches = (ran: number) => Object.fromEntries(branchTasks.map((name, i) =>
    [name, i < ran ? returns(completionEvent('FINISHED')) : throws(ErrorName.CONCURRENT_EXECUTION)]));

  test('runs: succeeds when exactly one branch ran the statement', async () => {
    const result = await run(asl, branches(1));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output.check.ran).toBe(1);
    expect(result.output.results.map((r: any) => r.outcome))
      .toEqual([BranchOutcome.RAN, ...Array(PARALLEL_BRANCHES - 1).fill(BranchOutcome.ALREADY_RUNNING)]);
  });

  test.each([2, PARALLEL_BRANCHES])('runs: fails when %i branches ran it', async (ran) => {
    const result = await run(asl, branches(ran));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'SingletonViolated' }));
    expect(result.cause).toBe(`${ran} branches ran the statement; exactly one must.`);
  });

  test('runs: fails when no branch ran it', async () => {
    const result = await run(asl, branches(0));
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: 'SingletonViolated' }));
    expect(result.entered).toContain('noBranchRan');
  });

  test('runs: fails when a branch fails otherwise', async () => {
    const result = await run(asl, { ...branches(1), startSlowQuery5: throws(ErrorName.STATEMENT_FAILED) });
    expect(result).toEqual(expect.objectContaining({ status: 'FAILED', error: ErrorName.STATEMENT_FAILED }));
  });
});

describe(`${SessionStagingMachine.ID} (a session across steps, then AUTO_COMMIT maintenance)`, () => {
  const asl = definition(SessionStagingMachine.ID);
  const SESSION_BUSY_RETRY = { ErrorEquals: [ErrorName.SESSION_BUSY], IntervalSeconds: 5, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' };

  test('states: the first task opens the session, the next two run in it (and retry a busy session), the last runs on its own', () => {
    expect(asl.States.OpenSessionAndStage.Parameters.Payload).toMatchObject({ [Field.SESSION_KEEP_ALIVE_SECONDS]: 600 });
    expect(asl.States.OpenSessionAndStage.Parameters.Payload).not.toHaveProperty(Field.SESSION_ID);
    expect(asl.States.OpenSessionAndStage.ResultSelector).toEqual({ 'sessionId.$': '$.sessionId' });
    for (const name of ['StageRows', 'MergeStaged']) {
      expect(asl.States[name].Parameters.Payload).toMatchObject({ [`${Field.SESSION_ID}.$`]: '$.session.sessionId' });
      expect(asl.States[name].Retry).toEqual([LAMBDA_SERVICE_RETRY, DATA_API_RETRY, SESSION_BUSY_RETRY, CONFLICT_RETRY]);
    }
    expect(asl.States.VacuumAndAnalyze.Parameters.Payload).toMatchObject({
      [Field.SQL_STATEMENTS]: ['VACUUM public.daily_sales', 'ANALYZE public.daily_sales'], [Field.EXECUTION_MODE]: 'AUTO_COMMIT',
    });
    expect(asl.States.VacuumAndAnalyze.Parameters.Payload).not.toHaveProperty(`${Field.SESSION_ID}.$`);
  });

  test('runs: the session id of the first task reaches the next ones; a closed session is caught', async () => {
    const seen: unknown[] = [];
    const done = { detail: { statementId: 's', state: 'FINISHED', rows: 1 } };
    const handlers: Record<string, Handler> = {
      OpenSessionAndStage: async () => ({ ...done, sessionId: 'session-1' }),
      StageRows: async (input) => { seen.push(input.Payload[Field.SESSION_ID]); return done; },
      MergeStaged: async (input) => { seen.push(input.Payload[Field.SESSION_ID]); return done; },
      VacuumAndAnalyze: async () => done,
    };
    const result = await run(asl, handlers);
    expect(result.status).toBe('SUCCEEDED');
    expect(seen).toEqual(['session-1', 'session-1']);
    expect(result.output).toMatchObject({ session: { sessionId: 'session-1' }, merged: { rows: 1 } });

    const closed = await run(asl, { ...handlers, MergeStaged: throws(ErrorName.SESSION_NOT_AVAILABLE) });
    expect(closed).toEqual(expect.objectContaining({ status: 'FAILED', error: ErrorName.SESSION_NOT_AVAILABLE }));
  });
});

describe(`${ConcurrentWritersMachine.ID} (serialization conflicts retried)`, () => {
  const asl = definition(ConcurrentWritersMachine.ID);

  test('states: a Map without a concurrency limit; each writer retries SerializationConflict up to 10 times', () => {
    expect(asl.States.Writers).toMatchObject({ Type: 'Map', ItemsPath: '$.writers' });
    // No limit: MaxConcurrency 0, Step Functions' default, is left out.
    expect(asl.States.Writers.MaxConcurrency ?? 0).toBe(0);
    const write = asl.States.Writers.ItemProcessor.States.AppendWhatIsSeen;
    expect(write.Retry).toEqual([LAMBDA_SERVICE_RETRY, DATA_API_RETRY, { ...CONFLICT_RETRY, MaxAttempts: 10 }]);
    expect(write.Parameters.Payload).toMatchObject({ [Field.PARAMETERS]: [{ 'name': 'writer', 'value.$': '$.writer' }] });
  });

  test('runs: every writer succeeds after its conflicts; by default 4 writers', async () => {
    const conflicts = new Map<number, number>();
    const result = await run(asl, {
      AppendWhatIsSeen: async (input) => {
        const writer = Number(input.Payload[Field.PARAMETERS][0].value);
        const seen = conflicts.get(writer) ?? 0;
        conflicts.set(writer, seen + 1);
        if (seen < writer - 1) throw error(ErrorName.SERIALIZATION_CONFLICT);
        return { detail: { statementId: `w-${writer}` } };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect([...conflicts.entries()].sort()).toEqual(Array.from({ length: DEFAULT_WRITERS }, (_, i) => [i + 1, i + 1]));
  });
});

describe(`${ChainedMachine.ID} (all machines in sequence)`, () => {
  const asl = definition(ChainedMachine.ID);
  const order = [
    CancellingStatementMachine.ID, PollingMachine.ID, SuccessAndFailMachine.ID, ParallelNoConcurrencyMachine.ID,
    SingleSuccessMachine.ID, SingleFailureMachine.ID, SessionStagingMachine.ID, ConcurrentWritersMachine.ID, RowsChoiceMachine.ID,
    ExportResultMachine.ID,
  ];

  test('states: each machine runs to completion (startExecution.sync:2), linked to the chain\'s execution', () => {
    expect(asl.StartAt).toBe(`run${order[0]}`);
    order.forEach((id, i) => {
      expect(asl.States[`run${id}`]).toEqual(expect.objectContaining({
        Resource: 'arn:${AWS::Partition}:states:::states:startExecution.sync:2',
        Parameters: {
          Input: { 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
          StateMachineArn: `\${${logicalId(integ.stack, integ.stateMachines[id])}}`,
        },
        ResultPath: null,
        Next: i + 1 < order.length ? `run${order[i + 1]}` : 'chainedTestSuccess',
      }));
    });
  });

  test('runs: the machines in order; the first failure stops the chain', async () => {
    const started: string[] = [];
    const handlers = Object.fromEntries(order.map((id) => [`run${id}`, async () => { started.push(id); return {}; }]));
    expect((await run(asl, handlers)).status).toBe('SUCCEEDED');
    expect(started).toEqual(order);

    const failing = { ...handlers, [`run${PollingMachine.ID}`]: throws('States.TaskFailed') };
    const result = await run(asl, failing);
    expect(result.status).toBe('FAILED');
    expect(result.entered).not.toContain(`run${SuccessAndFailMachine.ID}`);
  });
});
