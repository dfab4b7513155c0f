import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acceptWildcard, ExampleMachineProps, exampleStateMachine } from './util';
import { ExportFormat, RedshiftSqlTask, SfnRedshiftTaskerErrors } from '../../src';

/** Rows the export example writes: more than one Data API page. */
export const EXPORTED_ROWS = 2500;
/** Rows per child execution of the Distributed Map that reads the export (`ItemBatcher`). */
export const ROWS_PER_BATCH = 500;

export interface ExportResultMachineProps extends ExampleMachineProps {
  /** The bucket the result is written to. */
  readonly bucket: s3.IBucket;
}

/**
 * The whole result in S3, then processed by a Distributed Map: the statement's rows are written to the bucket as JSON
 * Lines when it finishes (`resultExport`), and the task's output says where (`export.bucket`, `export.key`,
 * `export.rows`). A `DistributedMap` reads that object (`S3JsonLItemReader`, the key from the task's output) in batches
 * of `ROWS_PER_BATCH` rows, each batch a child execution that counts its rows and its VIP rows; a `Choice` checks that
 * every exported row was processed. A result too large for the function's time budget fails with
 * `ResultExportTooLarge`: `UNLOAD` it instead.
 */
export class ExportResultMachine {
  public static readonly ID = 'ExportResultRsTask';
  public static readonly KEY_PREFIX = 'example-exports/';
  /** The Distributed Map's state name. */
  public static readonly MAP_STATE = 'ProcessExportedRows';
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

    // Each child execution gets { Items: [up to ROWS_PER_BATCH rows] } and returns its row ids and VIP count.
    const process = new sfn.DistributedMap(scope, ExportResultMachine.MAP_STATE, {
      itemReader: new sfn.S3JsonLItemReader({ bucket: props.bucket, key: sfn.JsonPath.stringAt('$.exported.export.key') }),
      itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: ROWS_PER_BATCH }),
      maxConcurrency: 5,
      resultSelector: { 'batches.$': '$[*].rows', 'vipsPerBatch.$': '$[*].vips', 'ids.$': '$[*].ids[*]' },
      resultPath: '$.processed',
      comment: 'Reads the exported rows from S3, in batches',
    }).itemProcessor(new sfn.Pass(scope, 'SelectBatchRows', {
      parameters: { 'ids.$': '$.Items[*].id', 'vipIds.$': '$.Items[?(@.vip == true)].id' },
    }).next(new sfn.Pass(scope, 'CountBatchRows', {
      parameters: { 'ids.$': '$.ids', 'rows.$': 'States.ArrayLength($.ids)', 'vips.$': 'States.ArrayLength($.vipIds)' },
    })));
    const counted = new sfn.Pass(scope, 'CountProcessedRows', {
      parameters: {
        'rows.$': 'States.ArrayLength($.processed.ids)',
        'batches.$': 'States.ArrayLength($.processed.batches)',
        'vipsPerBatch.$': '$.processed.vipsPerBatch',
      },
      resultPath: '$.processed',
    });
    const allProcessed = new sfn.Choice(scope, 'AllRowsProcessed')
      .when(sfn.Condition.numberEquals('$.processed.rows', EXPORTED_ROWS), new sfn.Succeed(scope, 'ExportReady'))
      .otherwise(new sfn.Fail(scope, 'RowsNotProcessed', { error: 'UnexpectedRows', cause: 'The Distributed Map did not process every row.' }));
    const check = new sfn.Choice(scope, 'AllRowsExported')
      .when(sfn.Condition.numberEquals('$.exported.export.rows', EXPORTED_ROWS), process.next(counted).next(allProcessed))
      .otherwise(new sfn.Fail(scope, 'ExportIncomplete', { error: 'UnexpectedRows', cause: 'The export does not hold every row.' }));

    this.stateMachine = exampleStateMachine(scope, ExportResultMachine.ID, exported.next(check), {
      logGroup: props.logGroup,
      timeout: Duration.minutes(15),
      comment: 'Runs a statement, writes its whole result to S3 and processes it with a Distributed Map',
    });
    acceptWildcard(this.stateMachine.role.node.findChild('DefaultPolicy'), '/^Resource::arn:<AWS::Partition>:s3:::<.+>\\/\\*$/',
      'The Distributed Map reads the exported object: s3:GetObject on "<results bucket>/*", as its key is only '
        + 'known at run time (under the bucket the tasker writes to).');
    acceptWildcard(this.stateMachine.node.findChild('DistributedMapPolicy'), '/^Resource::arn:<AWS::Partition>:states:.+:execution:.+\\*$/',
      'The Distributed Map manages its own runs: states:DescribeExecution and states:StopExecution on '
        + '"execution:<this state machine>:*" and states:RedriveExecution on "execution:<this state machine>/*:*" (its '
        + 'child executions) cover this machine\'s executions only.');
  }
}
