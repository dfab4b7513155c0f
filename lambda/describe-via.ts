/**
 * Redshift's error text of a FAILED or ABORTED statement, from `DescribeStatement`, which the Data API allows only to
 * the IAM role that started the statement. The completer may be another function (a separate completer, or the
 * completer of another tasker whose callback infrastructure this tasker shares): it then asks the function that
 * started the statement (recorded at registration as `startedBy`) to describe it, with the `describeStatement` action.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStatementCommand, DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { describeError } from './errors';
import { truncateBytes } from './plain';
import { StatusChangeEvent } from './status-event';
import { Action, Field } from '../src/contract';

/** Redshift error texts kept with the event (the cause sent to Step Functions is limited to 32,768 characters). */
export const MAX_ERROR_TEXT_BYTES = 16 * 1024;

/** Invokes another function synchronously and returns its result; throws its error (a `FunctionError`). */
export type InvokeFunction = (functionName: string, payload: unknown) => Promise<unknown>;

/** An `InvokeFunction` over a Lambda client created on first use (only completers of other functions need one). */
export function lambdaInvoker(client: () => LambdaClient): InvokeFunction {
  return async (functionName, payload) => {
    const output = await client().send(new InvokeCommand({
      FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)),
    }));
    const result = output.Payload?.length ? JSON.parse(Buffer.from(output.Payload).toString('utf8')) : null;
    if (output.FunctionError !== undefined) {
      const error = result as { errorType?: string; errorMessage?: string } | null;
      throw Object.assign(new Error(error?.errorMessage ?? output.FunctionError), { name: error?.errorType ?? 'FunctionError' });
    }
    return result;
  };
}

/**
 * Describes a statement: with this function's own identity when it started it (or nobody recorded who did), else by
 * invoking the function that started it.
 */
export async function describeAsStarter(deps: Deps, statementId: string, startedBy: string | undefined): Promise<DescribeStatementResponse> {
  if (startedBy === undefined || startedBy === deps.config.functionName) {
    return deps.redshiftData.send(new DescribeStatementCommand({ Id: statementId }));
  }
  return await deps.invoke(startedBy, {
    [Field.ACTION]: Action.DESCRIBE_STATEMENT, [Field.STATEMENT_ID]: statementId,
  }) as DescribeStatementResponse;
}

/** Adds Redshift's error text to a FAILED or ABORTED event as `detail.error`; the event unchanged when it cannot be read. */
export async function withErrorText(deps: Deps, event: StatusChangeEvent, startedBy: string | undefined): Promise<StatusChangeEvent> {
  try {
    const described = await describeAsStarter(deps, event.detail.statementId, startedBy);
    const error = described.Error ?? (event.detail.state === 'ABORTED' ? 'The statement was cancelled (ABORTED).' : undefined);
    return error === undefined ? event : { ...event, detail: { ...event.detail, error: truncateBytes(error, MAX_ERROR_TEXT_BYTES) } };
  } catch (error) {
    deps.log.warn('Could not read the error text of the statement; calling back without it', {
      statementId: event.detail.statementId, startedBy, error: describeError(error),
    });
    return event;
  }
}
