/**
 * Routes one invocation to the module that handles it. A CloudFormation request that cannot be started is answered
 * `FAILED` at once, so CloudFormation is never left waiting; the rollback Delete of a failed Create, and a request
 * whose resource has no SQL for it, are answered `SUCCESS` at once, without SQL.
 */
import { cancelStatement, describeStatement, getStatementResult, resolveStatementId } from './actions';
import { CloudFormationRequest } from './callback-details';
import { cloudFormationResponse, failedCreatePhysicalId, isAllowedResponseUrl, sendCloudFormationResponse } from './cfn-callback';
import { completeBatch } from './completion';
import { Deps } from './deps';
import { InvalidRequest, describeError } from './errors';
import { startOutcomeUnknown, startStatement } from './execute';
import { markHandled } from './orphans';
import { reconcile } from './reconcile';
import { Request, cloudFormationRequest, parseRequest } from './request';
import { NoSqlRequest, isResourcePropertiesRequest, resourceRequest } from './resource-properties';
import { exportResult } from './result-export';
import { formatStatementName } from './statement-name';
import { inFlightTtl } from './table-base';

/** What the tasker returns after answering a CloudFormation request itself (no statement started). */
export interface CloudFormationAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
}

/**
 * Answers a CloudFormation request at once: `SUCCESS` without SQL, or `FAILED` when its SQL could not be started.
 * `createdPhysicalId`: the physical id of a Create whose start failed with an unknown outcome (the statement may run),
 * so that the rollback's Delete runs the resource's Delete SQL and removes what may have been created.
 */
async function answerCloudFormation(
  deps: Deps, request: CloudFormationRequest, status: 'SUCCESS' | 'FAILED', reason: string, createdPhysicalId?: string,
): Promise<CloudFormationAnswer> {
  const response = cloudFormationResponse(request, status, reason, createdPhysicalId, undefined, createdPhysicalId !== undefined);
  const fields = { logicalResourceId: request.LogicalResourceId, requestType: request.RequestType, reason: response.Reason };
  if (status === 'FAILED') deps.log.warn('Answering CloudFormation FAILED: the statement could not be started', fields);
  else deps.log.info('Answering CloudFormation SUCCESS without SQL', fields);
  await sendCloudFormationResponse(deps.httpPut, request.ResponseURL, response);
  return { Status: status, Reason: response.Reason, PhysicalResourceId: response.PhysicalResourceId };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an unparsable URL';
  }
}

/** The rollback Delete of a failed Create: nothing was created, and SQL could drop an object the stack does not own. */
function isFailedCreateDelete(request: CloudFormationRequest | undefined): request is CloudFormationRequest {
  return request?.RequestType === 'Delete' && request.PhysicalResourceId === failedCreatePhysicalId(request.LogicalResourceId);
}

export async function route(deps: Deps, event: unknown): Promise<unknown> {
  const cfn = cloudFormationRequest(event);
  if (cfn !== undefined && !isAllowedResponseUrl(cfn.ResponseURL, deps.config.loopbackResponseUrls)) {
    // No answer: the URL is not CloudFormation's, so nothing is sent to it.
    deps.log.warn('Refusing a CloudFormation request whose ResponseURL is not a CloudFormation response URL', {
      logicalResourceId: cfn.LogicalResourceId, host: hostOf(cfn.ResponseURL),
    });
    throw new InvalidRequest('ResponseURL must be an https: URL of CloudFormation\'s response buckets '
      + `(cloudformation-custom-resource-response-<region>); got a URL on ${hostOf(cfn.ResponseURL)}. `
      + 'Only CloudFormation sends custom-resource requests to this function.');
  }
  if (isFailedCreateDelete(cfn)) {
    return answerCloudFormation(deps, cfn, 'SUCCESS', 'Nothing to delete: the Create failed, so no SQL runs.');
  }
  let request: Request | NoSqlRequest | undefined;
  try {
    request = isResourcePropertiesRequest(event) ? resourceRequest(event) : parseRequest(event);
    if (request.type === 'execute') return await startStatement(deps, request);
  } catch (error) {
    if (cfn !== undefined && (request === undefined || request.type === 'execute')) {
      const started = startOutcomeUnknown(error);
      if (started === undefined) return answerCloudFormation(deps, cfn, 'FAILED', `The SQL could not be started: ${describeError(error)}`);
      // The statement may run: its registration is kept but marked answered (neither its event nor a sweep answers
      // again), and CloudFormation's rollback cleans up with the resource's Delete SQL. If its event or a sweep
      // completed it meanwhile, CloudFormation has its answer: nothing more is sent.
      const handled = await markHandled(deps, started, '', 'answered FAILED at the start: the outcome of ExecuteStatement is unknown');
      if (handled === undefined) throw error;
      try {
        return await answerCloudFormation(deps, cfn, 'FAILED', `The start of the SQL failed and it may have run: ${describeError(error)}`,
          formatStatementName(started));
      } catch (answerError) {
        // Not answered: the registration is open again, for Lambda's retry of this request, its event or a sweep.
        await deps.table.releaseClaim(started, handled.attempt, handled.inFlightOf, inFlightTtl(deps.now(), deps.config.ttlDays));
        throw answerError;
      }
    }
    throw error;
  }
  switch (request.type) {
    case 'noSql':
      return answerCloudFormation(deps, request.request, 'SUCCESS', request.reason);
    case 'completion':
      return completeBatch(deps, request.records);
    case 'describeStatement':
      return describeStatement(deps, request);
    case 'getStatementResult':
      return getStatementResult(deps, request);
    case 'cancelStatement':
      return cancelStatement(deps, request);
    case 'exportResult':
      return exportResult(deps, await resolveStatementId(deps, request), request.export!);
    case 'reconcile':
      return reconcile(deps, request);
  }
}
