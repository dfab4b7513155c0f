/**
 * Routes one invocation to the module that handles it. A CloudFormation request that cannot be started is answered
 * `FAILED` at once, so CloudFormation is never left waiting.
 */
import { cancelStatement, describeStatement, getStatementResult } from './actions';
import { CloudFormationRequest } from './callback-details';
import { cloudFormationResponse, sendCloudFormationResponse } from './cfn-callback';
import { completeBatch } from './completion';
import { Deps } from './deps';
import { describeError } from './errors';
import { startStatement } from './execute';
import { reconcile } from './reconcile';
import { Request, cloudFormationRequest, parseRequest } from './request';

/** What the tasker returns after answering a CloudFormation request `FAILED` itself. */
export interface CloudFormationFailure {
  readonly Status: 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
}

async function answerCloudFormationFailure(deps: Deps, request: CloudFormationRequest, error: unknown): Promise<CloudFormationFailure> {
  const response = cloudFormationResponse(request, 'FAILED', `The SQL could not be started: ${describeError(error)}`);
  deps.log.warn('Answering CloudFormation FAILED: the statement could not be started', {
    logicalResourceId: request.LogicalResourceId, requestType: request.RequestType, error: describeError(error),
  });
  await sendCloudFormationResponse(deps.httpPut, request.ResponseURL, response);
  return { Status: 'FAILED', Reason: response.Reason, PhysicalResourceId: response.PhysicalResourceId };
}

export async function route(deps: Deps, event: unknown): Promise<unknown> {
  let request: Request | undefined;
  try {
    request = parseRequest(event);
    if (request.type === 'execute') return await startStatement(deps, request);
  } catch (error) {
    const cfn = cloudFormationRequest(event);
    if (cfn !== undefined && (request === undefined || request.type === 'execute')) {
      return answerCloudFormationFailure(deps, cfn, error);
    }
    throw error;
  }
  switch (request.type) {
    case 'completion':
      return completeBatch(deps, request.records);
    case 'describeStatement':
      return describeStatement(deps, request);
    case 'getStatementResult':
      return getStatementResult(deps, request);
    case 'cancelStatement':
      return cancelStatement(deps, request);
    case 'reconcile':
      return reconcile(deps, request);
  }
}
