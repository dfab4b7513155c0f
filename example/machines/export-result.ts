import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine } from './util';
import { ExportFormat, RedshiftSqlTask, SfnRedshiftTaskerErrors } from '../../src';

/** Rows the export example writes: more than one Data API page. */
export const EXPORTED_ROWS = 2500;

export interface ExportResultMachineProps extends ExampleMachineProps {
  /** The bucket the result is written to. */
  readonly bucket: s3.IBucket;
}

/**
 * The whole result in S3: the statement's rows are written to the bucket as JSON Lines when it finishes
 * (`resultExport`), and the task's output says where (`export.bucket`, `export.key`, `export.rows`): what a Distributed
 * Map's `ItemReader` (`S3JsonLItemReader`) reads to process each row (see the README). A result too large for the
 * function's time budget fails with `ResultExportTooLarge`: `UNLOAD` it instead.
 */
export class ExportResultMachine {
  public static readonly ID = 'ExportResultRsTask';
  public static readonly KEY_PREFIX = 'example-exports/';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExportResultMachineProps) {
    const failed = new sfn.Fail(scope, 'ExportFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const exported = RedshiftSqlTask.jsonPath(scope, 'ExportTheResult', {
      tasker: props.tasker,
      sql: `select n as id, 'customer-' || n as name, n % 3 = 0 as vip from generate_series(1, ${EXPORTED_ROWS}) n`,
      resultExport: { bucket: props.bucket, keyPrefix: ExportResultMachine.KEY_PREFIX, format: ExportFormat.JSON_LINES },
      taskTimeout: sfn.Timeout.duration(Duration.minutes(10)),
      resultSelector: { 'export.$': '$.export' },
      resultPath: '$.exported',
      comment: 'Runs the statement and writes its whole result to S3 as JSON Lines before the callback',
    })
      .addCatch(new sfn.Fail(scope, 'UseUnload', { error: 'ResultExportTooLarge', cause: 'Write the result with UNLOAD instead.' }), {
        errors: [SfnRedshiftTaskerErrors.RESULT_EXPORT_TOO_LARGE], resultPath: '$.error',
      })
      .addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const check = new sfn.Choice(scope, 'AllRowsExported')
      .when(sfn.Condition.numberEquals('$.exported.export.rows', EXPORTED_ROWS), new sfn.Succeed(scope, 'ExportReady'))
      .otherwise(new sfn.Fail(scope, 'ExportIncomplete', { error: 'UnexpectedRows', cause: 'The export does not hold every row.' }));

    this.stateMachine = exampleStateMachine(scope, ExportResultMachine.ID, exported.next(check), {
      logGroup: props.logGroup,
      timeout: Duration.minutes(15),
      comment: 'Runs a statement and writes its whole result to S3 for a Distributed Map',
    });
  }
}
