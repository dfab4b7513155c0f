/** Defaults of the resources the construct creates, shared by the construct and its synth-time validation. */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Defaults } from '../contract';

/** Timeout of the functions the construct creates. */
export const DEFAULT_TIMEOUT = Duration.seconds(60);
/** Lambda's own default timeout, for an existing function that sets none. */
export const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);
/** Time a start needs besides the fast-path wait (register, start, call back): the starter's timeout must allow both. */
export const FAST_PATH_TIMEOUT_MARGIN = Duration.seconds(Defaults.FAST_PATH_MARGIN_SECONDS);
export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** AWS's advice for SQS event sources: a visibility timeout of at least six times the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Queue visibility when the completer's timeout is unknown: the longest Lambda timeout. */
export const UNKNOWN_TIMEOUT_VISIBILITY = Duration.minutes(15);
/** Batch size of the completion event source. */
export const COMPLETION_BATCH_SIZE = 10;
export const DEFAULT_MAX_RECEIVE_COUNT = 15;
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** Prefix of the ids of the construct's warnings (`Annotations.addWarningV2`), so users can acknowledge them. */
export const WARNING_PREFIX = 'cdk-stepfunctions-redshift';
