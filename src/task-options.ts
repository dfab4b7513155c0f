import { SfnRedshiftTasker } from './tasker';

/**
 * What every task state that calls a tasker takes (`RedshiftSqlTask`, `RedshiftStatementTask`).
 */
export interface RedshiftTaskOptions {
  /**
   * The tasker whose starter function (`lambdaFunction`) the state invokes. To describe, cancel or read a statement,
   * the tasker that started it: the Data API lets only the role that started a statement do that.
   */
  readonly tasker: SfnRedshiftTasker;

  /**
   * Whether to retry the errors after which the request did not reach Redshift: the Lambda service errors
   * (`Lambda.ServiceException`, ...; 2 seconds, backoff 2, 6 attempts) and the Data API's retryable errors
   * (`SfnRedshiftTaskerErrors.RETRYABLE_DATA_API_ERRORS`; 10 seconds, backoff 2, 5 attempts). Set it to `false` to
   * write your own with `addRetry`.
   *
   * @default true
   */
  readonly retryOnServiceExceptions?: boolean;
}
