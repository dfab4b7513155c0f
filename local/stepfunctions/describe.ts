/** `DescribeExecution`'s answer for an execution of the local runner, and a `.sync` task's. */
import type { Json, JsonObject } from './definition';
import type { ExecutionOutcome } from './types';

/** An execution as `DescribeExecution` shows it (epoch seconds for dates, JSON texts for input and output). */
export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: 'RUNNING' | ExecutionOutcome['status'];
  readonly startDate: number;
  readonly stopDate?: number;
  readonly input: string;
  readonly inputDetails: { readonly included: boolean };
  readonly output?: string;
  readonly outputDetails?: { readonly included: boolean };
  readonly error?: string;
  readonly cause?: string;
}

/** The description of an execution: RUNNING until it has an outcome. */
export function describeExecution(
  executionArn: string, started: { stateMachineArn: string; name: string; input: Json; startDate: Date }, outcome?: ExecutionOutcome,
): ExecutionDescription {
  const base = {
    executionArn,
    stateMachineArn: started.stateMachineArn,
    name: started.name,
    startDate: started.startDate.getTime() / 1000,
    input: JSON.stringify(started.input),
    inputDetails: { included: true },
  };
  if (!outcome) return { ...base, status: 'RUNNING' };
  return {
    ...base,
    status: outcome.status,
    stopDate: outcome.stopDate.getTime() / 1000,
    ...outcome.status === 'SUCCEEDED' ? { output: JSON.stringify(outcome.output ?? null), outputDetails: { included: true } } : {},
    ...outcome.error !== undefined ? { error: outcome.error } : {},
    ...outcome.cause !== undefined ? { cause: outcome.cause } : {},
  };
}

/** What a `states:startExecution.sync` task returns for an ended execution (`.sync:2`: input and output as JSON). */
export function describeNested(outcome: ExecutionOutcome, machineArn: string, input: Json, v2: boolean): JsonObject {
  return {
    ExecutionArn: outcome.executionArn,
    StateMachineArn: machineArn,
    Name: outcome.executionArn.split(':').pop()!,
    Status: outcome.status,
    StartDate: outcome.startDate.getTime(),
    StopDate: outcome.stopDate.getTime(),
    Input: v2 ? input : JSON.stringify(input),
    InputDetails: { Included: true },
    ...outcome.status === 'SUCCEEDED'
      ? { Output: v2 ? outcome.output ?? null : JSON.stringify(outcome.output ?? null), OutputDetails: { Included: true } }
      : { Error: outcome.error ?? null, Cause: outcome.cause ?? null },
  };
}
