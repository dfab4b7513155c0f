/**
 * A CloudFormation request whose SQL failed with a serialization conflict (Redshift's error 1023: a concurrent
 * transaction, say another resource's `GRANT` in the same deployment) runs it again, up to `CONFLICT_RERUNS` times,
 * after a backoff with full jitter, before the resource is answered FAILED. The transaction rolled back, so running it
 * again is safe; an `AUTO_COMMIT` list is not run again (what ran before the failure stayed committed).
 *
 * A run is a statement of its own: the completion that claimed the failed statement hands the request, with the SQL
 * and parameters the Data API describes for the failed statement and `ConflictAttempt: n`, to the function that
 * started it (itself through `deps.restart`, another one by invoking it), which registers and starts it as any
 * CloudFormation request: keyed by the request and the attempt, so a completion that is retried (a crash, a second
 * source) starts the same statement, never a second one. Its own completion answers CloudFormation, or runs it again.
 * When a run cannot be started, the caller answers FAILED with the conflict, as without re-runs.
 */
import { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { CloudFormationRequest } from './callback-details';
import { Deps } from './deps';
import { describeAsStarter } from './describe-via';
import { describeError } from './errors';
import { StatusChangeEvent } from './status-event';
import { Defaults, Field, SERIALIZATION_CONFLICT_TEXT } from '../src/contract';

/** What the completion knows of the failed statement's start. */
export interface FailedStart {
  readonly startedBy?: string;
  readonly executionMode?: string;
}

/** The SQL of a described statement: its text, or the texts of a batch's statements in order. */
function describedSql(described: DescribeStatementResponse): string | string[] | undefined {
  if (described.SubStatements?.length) {
    const ordered = [...described.SubStatements].sort((a, b) => subIndex(a.Id) - subIndex(b.Id));
    const texts = ordered.map((sub) => sub.QueryString);
    return texts.every((text): text is string => typeof text === 'string' && text !== '') ? texts : undefined;
  }
  return described.QueryString ? described.QueryString : undefined;
}

const subIndex = (id: string | undefined) => Number(/:(\d+)$/.exec(id ?? '')?.[1] ?? 0);

/**
 * What became of a re-run: a statement runs the SQL again (its completion answers CloudFormation), or its start
 * failed and the router answered CloudFormation FAILED itself.
 */
export type Rerun = { readonly kind: 'started'; readonly statementId: string } | { readonly kind: 'answered' };

/**
 * Runs a CloudFormation request's SQL again after a serialization conflict; `undefined` when it is not run again (the
 * attempts are used up, an `AUTO_COMMIT` list, the SQL cannot be described, the starter could not be reached): the
 * caller answers FAILED. Never throws.
 */
export async function rerunAfterConflict(
  deps: Deps, request: CloudFormationRequest, event: StatusChangeEvent, failed: FailedStart,
): Promise<Rerun | undefined> {
  const attempt = (request.ConflictAttempt ?? 0) + 1;
  const fields = { logicalResourceId: request.LogicalResourceId, statementId: event.detail.statementId, attempt };
  if (attempt > Defaults.CONFLICT_RERUNS || failed.executionMode === 'AUTO_COMMIT') return undefined;
  try {
    const described = await describeAsStarter(deps, event.detail.statementId, failed.startedBy);
    // The Data API's word, not the event's: an event that names the statement but says it conflicted while it did not
    // (forged by a principal that may send to the queue or invoke the function) runs nothing again.
    if (described.Status !== 'FAILED' || !SERIALIZATION_CONFLICT_TEXT.test(described.Error ?? '')) {
      deps.log.warn('The event says the statement failed with a serialization conflict, the Data API does not; not running it again', {
        ...fields, status: described.Status,
      });
      return undefined;
    }
    const sql = describedSql(described);
    if (sql === undefined) {
      deps.log.warn('The Data API does not describe the conflicted statement\'s SQL; answering FAILED', fields);
      return undefined;
    }
    const backoffMs = (deps.random ?? Math.random)() * Defaults.CONFLICT_RERUN_BASE_MS * 2 ** (attempt - 1);
    await new Promise((resolve) => setTimeout(resolve, backoffMs));
    const { ServiceTimeout: serviceTimeout, ConflictAttempt: _previous, ...requestFields } = request;
    const rerun: Record<string, unknown> = {
      ...requestFields,
      // Keeps the resource's service timeout: the sweep that gives up on the request reads it.
      ...serviceTimeout !== undefined ? { ResourceProperties: { ServiceTimeout: String(serviceTimeout) } } : {},
      [Field.CONFLICT_ATTEMPT]: attempt,
      ...typeof sql === 'string' ? { [Field.SQL_STATEMENT]: sql } : { [Field.SQL_STATEMENTS]: sql },
      ...described.QueryParameters?.length
        ? { [Field.PARAMETERS]: described.QueryParameters.map((p) => ({ name: p.name, value: p.value })) } : {},
      ...typeof sql !== 'string' && failed.executionMode !== undefined ? { [Field.EXECUTION_MODE]: failed.executionMode } : {},
    };
    const starter = failed.startedBy;
    const answer = starter === undefined || starter === deps.config.functionName
      ? await deps.restart?.(rerun)
      : await deps.invoke(starter, rerun);
    const { Id: id, Status: status } = (answer ?? {}) as { Id?: unknown; Status?: unknown };
    // The router answers CloudFormation itself when a start fails.
    if (status === 'FAILED' || status === 'SUCCESS') return { kind: 'answered' };
    if (typeof id !== 'string') {
      deps.log.warn('The re-run after a serialization conflict did not start a statement; answering FAILED', fields);
      return undefined;
    }
    deps.log.info('Running a CloudFormation request\'s SQL again after a serialization conflict', {
      ...fields, rerunStatementId: id, backoffMs: Math.round(backoffMs),
    });
    return { kind: 'started', statementId: id };
  } catch (error) {
    deps.log.warn('Could not run the SQL again after a serialization conflict; answering FAILED', { ...fields, error: describeError(error) });
    return undefined;
  }
}
