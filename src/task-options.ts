import * as s3 from 'aws-cdk-lib/aws-s3';
import { ExportFormat } from './options';
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

/**
 * Where and how a statement's whole result is written to S3: one object per statement,
 * `<keyPrefix><statement id>.jsonl` (or `.csv`), page by page with multipart uploads (the function's memory stays
 * flat whatever the size).
 */
export interface ResultExport {
  /**
   * The bucket. The tasker's function gets `s3:PutObject` and `s3:AbortMultipartUpload` on `keyPrefix*` only, and
   * `kms:GenerateDataKey` and `kms:Decrypt` on the bucket's key when it has one (`bucket.encryptionKey`: for an
   * imported bucket, import it with `Bucket.fromBucketAttributes` and its `encryptionKey`).
   */
  readonly bucket: s3.IBucket;

  /**
   * The key prefix of the written objects; usually ends with `/`. It may come from the state (a JSONPath or JSONata
   * expression); the grant then covers the whole bucket unless the prefix starts with a fixed part (give the grant
   * yourself for anything else).
   *
   * @default 'redshift-results/'
   */
  readonly keyPrefix?: string;

  /**
   * `ExportFormat.JSON_LINES` or `ExportFormat.CSV`.
   *
   * @default ExportFormat.JSON_LINES
   */
  readonly format?: ExportFormat;
}
