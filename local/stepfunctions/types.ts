/** The runner's public types: its options, the outcome of an execution, a task call and a task's error. */
import type { Json } from './definition';
import type { TraceEvent } from './trace';
import type { LocalLambdaRuntime } from '../lambda/runtime';
import type { SfnCallbackServer } from '../servers/sfn-callbacks';

/** An error a task fails with: `name` is the error Retry/Catch match, `message` the cause. */
export class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

export interface ExecutionOutcome {
  readonly executionArn: string;
  /** The execution that started this one (`states:startExecution` task), if any. */
  readonly parentExecutionArn?: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate: Date;
}

export interface LocalStepFunctionsProps {
  readonly lambda: LocalLambdaRuntime;
  readonly callbacks: SfnCallbackServer;
  /** @default 'eu-west-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Receives every trace event. */
  readonly onTrace?: (event: TraceEvent) => void;
  /**
   * Answers a Task state before the runner calls its resource (mocked responses): `undefined` to let the runner call
   * it. A returned value is the task's result; a thrown `TaskError` fails the task.
   */
  readonly answerTask?: (task: TaskCall) => Promise<Json | undefined> | Json | undefined;
  /** The S3 stand-in's endpoint, for Distributed Maps (`ItemReader`, `ResultWriter`). */
  readonly s3Endpoint?: string;
}

/** A Task state about to call its resource. */
export interface TaskCall {
  /** The name of the state machine (the last part of its ARN). */
  readonly machineName: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly resource: string;
  /** The task's parameters (after Parameters/Arguments). */
  readonly parameters: Json;
}
