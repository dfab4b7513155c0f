/**
 * Who waits for a statement and how to call it back: the tracking table's `callback_details` attribute (the
 * original's name), a JSON string written when the statement is registered and read when it completes.
 *
 * - Step Functions: `{"taskToken": …, "executionArn": …}`, and `rowFormat` when the task asked for the rows, `export`
 *   (`{bucket, keyPrefix, format}`) when it asked for the result in S3;
 * - CloudFormation: the request's response fields (`RequestType`, `ResponseURL`, `StackId`, `RequestId`,
 *   `ResourceType`, `LogicalResourceId`, `PhysicalResourceId` on Update and Delete), and the resource's
 *   `ServiceTimeout` when it has one (no other resource properties), `resultAttributes: true` when the resource
 *   answers with its SQL's row, and `ConflictAttempt` on a run after a serialization conflict;
 * - nobody: `{}`.
 */
import type { ExportTarget } from './result-export';
import { EXPORT_FORMATS, ROW_FORMATS, RowFormatName } from '../src/contract';

/** What the tasker keeps of a CloudFormation request to answer it later (no resource properties). */
export interface CloudFormationRequest {
  readonly RequestType: string;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  /** Seconds CloudFormation waits for the response (the custom resource's `ServiceTimeout`, 1-3600). */
  readonly ServiceTimeout?: number;
  /**
   * How many times the request's SQL was run again after a serialization conflict (1 to `CONFLICT_RERUNS`): each run is
   * a statement of its own (`conflict-rerun.ts`). Absent on the first run.
   */
  readonly ConflictAttempt?: number;
}

export type Callback =
  | { readonly kind: 'none' }
  | {
    readonly kind: 'stepFunctions';
    readonly taskToken: string;
    readonly executionArn: string;
    /** The statement's rows come with the callback, in this format. */
    readonly rowFormat?: RowFormatName;
    /** The statement's whole result is written to S3 before the callback, which carries where. */
    readonly export?: ExportTarget;
  }
  | {
    readonly kind: 'cloudFormation';
    readonly request: CloudFormationRequest;
    /** The SQL's one row becomes the resource's attributes (`ResultAttributes`). */
    readonly resultAttributes?: boolean;
  };

/** The `callback_details` string for a callback. */
export function encodeCallbackDetails(callback: Callback): string {
  switch (callback.kind) {
    case 'stepFunctions':
      return JSON.stringify({
        taskToken: callback.taskToken,
        executionArn: callback.executionArn,
        ...callback.rowFormat !== undefined ? { rowFormat: callback.rowFormat } : {},
        ...callback.export !== undefined ? { export: callback.export } : {},
      });
    case 'cloudFormation':
      return JSON.stringify({ ...callback.request, ...callback.resultAttributes ? { resultAttributes: true } : {} });
    default:
      return '{}';
  }
}

/** Reads `callback_details` back; an absent or unrecognised value means nobody waits. */
export function decodeCallbackDetails(details: string | undefined): Callback {
  if (details === undefined) return { kind: 'none' };
  const parsed = JSON.parse(details) as Record<string, unknown>;
  if (typeof parsed.taskToken === 'string') {
    const rowFormat = (ROW_FORMATS as readonly unknown[]).includes(parsed.rowFormat) ? parsed.rowFormat as RowFormatName : undefined;
    const target = parsed.export as Partial<ExportTarget> | undefined;
    const exportTarget = typeof target?.bucket === 'string' && typeof target.keyPrefix === 'string'
      && (EXPORT_FORMATS as readonly unknown[]).includes(target.format) ? target as ExportTarget : undefined;
    return {
      kind: 'stepFunctions',
      taskToken: parsed.taskToken,
      executionArn: typeof parsed.executionArn === 'string' ? parsed.executionArn : '',
      ...rowFormat !== undefined ? { rowFormat } : {},
      ...exportTarget !== undefined ? { export: exportTarget } : {},
    };
  }
  if (typeof parsed.ResponseURL === 'string') {
    const { resultAttributes, ...request } = parsed;
    return { kind: 'cloudFormation', request: request as unknown as CloudFormationRequest, ...resultAttributes === true ? { resultAttributes: true } : {} };
  }
  return { kind: 'none' };
}
