/**
 * The flow every example custom-resource function shares:
 *
 * 1. Turn the CloudFormation request into SQL (`plan`), validating the properties.
 * 2. Invoke the tasker synchronously with the request's callback fields plus `sqlStatement` (or `sqlStatements`).
 *    When the tasker returns normally it owns the CloudFormation response: it answers when the statement ends.
 * 3. In every other case (invalid properties, nothing to run, invoke or tasker failure) this function answers
 *    CloudFormation itself, with a readable reason, so a stack never waits for a response that will not come.
 *
 * The function never throws after answering (CloudFormation invokes it asynchronously, and a throw would make Lambda
 * run the request again); it throws only when its own answer could not be delivered, so that Lambda retries it.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { TASKER_FUNCTION_ENV } from './environment';
import { Plan } from './plan';
import { PropertyError } from './properties';
import { invokeTasker } from './tasker';
import {
  CustomResource, Field, HttpPut, cloudFormationResponse, failedCreatePhysicalId, sendCloudFormationResponse,
} from '../../lambda/custom-resource-api';

/**
 * Suffix of the physical id reported when a Create fails (by this function, or by the tasker when the SQL fails).
 * CloudFormation follows a failed Create with a Delete during the rollback; a Delete for such an id has nothing to
 * drop and succeeds without SQL.
 */
export const CREATE_FAILED_SUFFIX = CustomResource.CREATE_FAILED_SUFFIX;

export interface CustomResourceDeps {
  readonly lambda: LambdaClient;
  readonly put: HttpPut;
  /** The tasker's function name (from `CDK_STEPFUNCTIONS_REDSHIFT_LAMBDA`). */
  readonly functionName: string | undefined;
  /** Delays between attempts to deliver this function's own response. */
  readonly retryDelaysMs?: readonly number[];
  readonly log?: (level: 'INFO' | 'WARN' | 'ERROR', message: string, fields?: Record<string, unknown>) => void;
}

/** Who answered CloudFormation, and how (for logs and tests). */
export type Outcome =
  | { readonly answeredBy: 'tasker'; readonly result: unknown }
  | { readonly answeredBy: 'function'; readonly status: 'SUCCESS' | 'FAILED'; readonly reason: string; readonly physicalResourceId: string };

/** Structured log line; never includes the ResponseURL, the properties or the SQL (they may hold password hashes). */
export function jsonLog(level: string, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'ERROR') console.error(line);
  else console.log(line);
}

/** The fields of the request the tasker needs to answer CloudFormation (the properties are left out). */
export function taskerPayload(event: CloudFormationCustomResourceEvent, statements: string[]): Record<string, unknown> {
  return {
    RequestType: event.RequestType,
    ServiceToken: event.ServiceToken,
    ResponseURL: event.ResponseURL,
    StackId: event.StackId,
    RequestId: event.RequestId,
    ResourceType: event.ResourceType,
    LogicalResourceId: event.LogicalResourceId,
    ...event.RequestType !== 'Create' ? { PhysicalResourceId: event.PhysicalResourceId } : {},
    ...statements.length === 1 ? { [Field.SQL_STATEMENT]: statements[0] } : { [Field.SQL_STATEMENTS]: statements },
  };
}

/** The physical id this function reports: the incoming one, or for a Create the failure marker. */
export function physicalIdFor(event: CloudFormationCustomResourceEvent): string {
  return event.RequestType === 'Create' ? failedCreatePhysicalId(event.LogicalResourceId) : event.PhysicalResourceId;
}

export async function handleCustomResource(
  event: CloudFormationCustomResourceEvent,
  plan: (event: CloudFormationCustomResourceEvent) => Plan,
  deps: CustomResourceDeps,
): Promise<Outcome> {
  const log = deps.log ?? jsonLog;
  const request = { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, requestId: event.RequestId };

  const answer = async (status: 'SUCCESS' | 'FAILED', reason: string): Promise<Outcome> => {
    // No SQL ran: a Create (successful or not) reports the failed-Create marker, so its Delete runs no SQL either.
    const response = cloudFormationResponse(event, status, reason, physicalIdFor(event));
    log(status === 'SUCCESS' ? 'INFO' : 'ERROR', `Answering CloudFormation ${status}`, { ...request, reason });
    await sendCloudFormationResponse(deps.put, event.ResponseURL, response, deps.retryDelaysMs);
    return { answeredBy: 'function', status, reason, physicalResourceId: response.PhysicalResourceId };
  };

  if (event.RequestType === 'Delete' && event.PhysicalResourceId.endsWith(CREATE_FAILED_SUFFIX)) {
    return answer('SUCCESS', 'Nothing to delete: the Create failed before any SQL ran.');
  }

  let planned: Plan;
  try {
    planned = plan(event);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return answer('FAILED', error instanceof PropertyError ? `Invalid properties: ${message}` : `Cannot build the SQL: ${message}`);
  }
  if (planned.kind === 'none') return answer('SUCCESS', planned.reason);

  if (deps.functionName === undefined || deps.functionName === '') {
    return answer('FAILED', `The function is misconfigured: set the environment variable ${TASKER_FUNCTION_ENV} `
      + 'to the name of the SfnRedshiftStarter function.');
  }
  const invoked = await invokeTasker(deps.lambda, deps.functionName, taskerPayload(event, planned.statements));
  if (!invoked.ok) return answer('FAILED', invoked.reason);

  const result = invoked.result as { Status?: unknown; Reason?: unknown; Id?: unknown } | undefined;
  if (result?.Status === 'FAILED') {
    // The tasker could not start the statement and has already answered FAILED.
    log('WARN', 'The tasker could not start the statement and answered CloudFormation FAILED', { ...request, reason: result.Reason });
  } else {
    log('INFO', 'Statement started; the tasker answers CloudFormation when it ends', {
      ...request, statementId: result?.Id, statements: planned.statements.length,
    });
  }
  return { answeredBy: 'tasker', result: invoked.result };
}
