/** `DescribeExecution`'s answer for an execution of the local runner. */
import type { Json } from './definition';
import type { ExecutionOutcome } from './runner';

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
