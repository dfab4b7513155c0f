import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine, slowStatement } from './util';
import { RedshiftSqlTask, SfnRedshiftTaskerErrors } from '../../src';

/** Number of parallel branches that try to start the same statement. */
export const PARALLEL_BRANCHES = 10;

/** Branch outcomes, as recorded in each branch's output `outcome`. */
export const BranchOutcome = { RAN: 'ran', ALREADY_RUNNING: 'alreadyRunning' } as const;

/**
 * `executeSingletonStatement` under contention: ten branches start the same SQL at the same time. One runs it; the
 * others get `ConcurrentExecution`. The machine then counts the branches that ran the statement and succeeds only
 * when exactly one did.
 */
export class ParallelNoConcurrencyMachine {
  public static readonly ID = 'ParallelExecutions';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const parallel = new sfn.Parallel(scope, 'parallelExecutions', { resultPath: '$.results' });
    for (let i = 0; i < PARALLEL_BRANCHES; i++) {
      const outcome = (id: string, value: string) => new sfn.Pass(scope, id, {
        result: sfn.Result.fromObject({ branch: i, outcome: value }),
      });
      const start = RedshiftSqlTask.jsonPath(scope, `startSlowQuery${i}`, {
        tasker: props.tasker,
        sql: slowStatement(props.timing.singletonStatementSeconds),
        singleton: true,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
        resultPath: '$.executionDetails',
      })
        .addCatch(outcome(`successAlreadyRunning${i}`, BranchOutcome.ALREADY_RUNNING), {
          errors: [SfnRedshiftTaskerErrors.CONCURRENT_EXECUTION], resultPath: '$.error',
        })
        .addCatch(new sfn.Fail(scope, `testFail${i}`, { errorPath: '$.error.Error', causePath: '$.error.Cause' }), {
          errors: [sfn.Errors.ALL], resultPath: '$.error',
        });
      parallel.branch(start.next(outcome(`successParallel${i}`, BranchOutcome.RAN)));
    }
    // Count the branches that ran the statement. A JSONPath filter that matches nothing yields an empty list in Step
    // Functions (some local interpreters raise an error instead), so "no branch ran" is decided first, without one.
    const anyRan = new sfn.Pass(scope, 'checkAnyBranchRan', {
      parameters: { anyRan: sfn.JsonPath.arrayContains(sfn.JsonPath.listAt('$.results[*].outcome'), BranchOutcome.RAN) },
      resultPath: '$.check',
    });
    const noBranchRan = new sfn.Fail(scope, 'noBranchRan', {
      error: 'SingletonViolated',
      cause: 'No branch ran the statement: every branch got ConcurrentExecution.',
    });
    const select = new sfn.Pass(scope, 'selectBranchesThatRan', {
      parameters: { ran: sfn.JsonPath.listAt(`$.results[?(@.outcome == '${BranchOutcome.RAN}')]`) },
      resultPath: '$.check',
    });
    const count = new sfn.Pass(scope, 'countBranchesThatRan', {
      parameters: {
        ran: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.check.ran')),
        message: sfn.JsonPath.format('{} branches ran the statement; exactly one must.', sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.check.ran'))),
      },
      resultPath: '$.check',
    });
    const verify = new sfn.Choice(scope, 'verifyExactlyOneBranchRan')
      .when(sfn.Condition.numberEquals('$.check.ran', 1), new sfn.Succeed(scope, 'parallelSucceeded'))
      .otherwise(new sfn.Fail(scope, 'parallelFailed', { error: 'SingletonViolated', causePath: '$.check.message' }));
    const definition = parallel.next(anyRan).next(new sfn.Choice(scope, 'anyBranchRan')
      .when(sfn.Condition.booleanEquals('$.check.anyRan', true), select.next(count).next(verify))
      .otherwise(noBranchRan));

    this.stateMachine = exampleStateMachine(scope, ParallelNoConcurrencyMachine.ID, definition, {
      logGroup: props.logGroup,
      timeout: Duration.minutes(15),
      comment: 'Ten branches start the same statement with executeSingletonStatement; exactly one may run it',
    });
  }
}
