/**
 * The "Redshift Data Statement Status Change" event, as the completer receives it in an SQS message body.
 */
import { StatusChangeEvent as EventNames, FinalState, isFinalState } from '../src/contract';

export interface StatusChangeDetail {
  readonly principal?: string;
  readonly statementName: string;
  readonly statementId: string;
  readonly redshiftQueryId?: number;
  readonly state: FinalState;
  readonly rows?: number;
  readonly expireAt?: number;
  /** Added by the completer for FAILED and ABORTED: Redshift's error text from DescribeStatement. */
  readonly error?: string;
}

export interface StatusChangeEvent {
  readonly 'version'?: string;
  readonly 'id'?: string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account'?: string;
  readonly 'time'?: string;
  readonly 'region'?: string;
  readonly 'resources'?: readonly string[];
  readonly 'detail': StatusChangeDetail;
}

/**
 * Parses an SQS message body into a status-change event; `undefined` for anything else (malformed JSON, another
 * source or detail type, missing fields, a state that is not final).
 */
export function parseStatusChangeEvent(body: unknown): StatusChangeEvent | undefined {
  if (typeof body !== 'string') return undefined;
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const candidate = event as Record<string, unknown>;
  if (candidate.source !== EventNames.SOURCE || candidate['detail-type'] !== EventNames.DETAIL_TYPE) return undefined;
  const detail = candidate.detail as Record<string, unknown> | undefined;
  if (typeof detail !== 'object' || detail === null) return undefined;
  if (typeof detail.statementName !== 'string' || typeof detail.statementId !== 'string' || detail.statementId === '') return undefined;
  if (!isFinalState(detail.state)) return undefined;
  return candidate as unknown as StatusChangeEvent;
}
