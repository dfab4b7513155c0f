import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acceptWildcard, exampleStateMachine } from './util';

export interface ChainedMachineProps {
  /** The machines to run, in this order, each one after the previous one succeeded. */
  readonly machines: { readonly id: string; readonly stateMachine: sfn.IStateMachine }[];
  readonly logGroup: logs.ILogGroup;
}

/** Runs the example machines one after the other (`startExecution.sync:2`); fails as soon as one fails. */
export class ChainedMachine {
  public static readonly ID = 'chainedMachines';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ChainedMachineProps) {
    let chain: sfn.Chain | undefined;
    for (const { id, stateMachine } of props.machines) {
      const run = new tasks.StepFunctionsStartExecution(scope, `run${id}`, {
        stateMachine,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        // Links each child execution to this one in the console.
        associateWithParent: true,
        input: sfn.TaskInput.fromObject({}),
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(Duration.hours(2)),
      });
      chain = chain === undefined ? sfn.Chain.start(run) : chain.next(run);
    }
    const succeed = new sfn.Succeed(scope, 'chainedTestSuccess');
    this.stateMachine = exampleStateMachine(scope, ChainedMachine.ID, chain === undefined ? succeed : chain.next(succeed), {
      logGroup: props.logGroup,
      timeout: Duration.hours(4),
      comment: 'Runs every example machine, one after the other',
    });
    acceptWildcard(this.stateMachine.role.node.findChild('DefaultPolicy'), '/^Resource::arn:<AWS::Partition>:states:.+:execution:.+\\*$/',
      'states:DescribeExecution and states:StopExecution (added by StepFunctionsStartExecution .sync) act on '
        + 'executions; "execution:<state machine name>:*" covers the executions of the chained machines only.');
  }
}
