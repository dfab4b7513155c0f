/**
 * Typed errors of the tasker's API. Step Functions matches `Catch`/`Retry` on `error.name`, so names are API
 * (see `ErrorName` in the contract).
 */
import { ErrorName } from '../src/contract';

/** Base class: `name` is what a Step Functions `Catch` sees. */
export abstract class TaskerError extends Error {
  public abstract readonly name: string;
}

/** `executeSingletonStatement` found the same SQL already running on the same target and database. */
export class ConcurrentExecution extends TaskerError {
  public readonly name = ErrorName.CONCURRENT_EXECUTION;
}

/** The invocation payload is invalid. Nothing was written and nothing was started. */
export class InvalidRequest extends TaskerError {
  public readonly name = ErrorName.INVALID_REQUEST;
}

/** `statementId: "LATEST"` found no statement started for the `executionArn`. */
export class PreviousExecutionNotFound extends TaskerError {
  public readonly name = ErrorName.PREVIOUS_EXECUTION_NOT_FOUND;
}

/** The function's environment is missing or invalid; every invocation fails until it is fixed. */
export class ConfigurationError extends TaskerError {
  public readonly name = ErrorName.CONFIGURATION_ERROR;
}

/** A one-line, human-readable description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
