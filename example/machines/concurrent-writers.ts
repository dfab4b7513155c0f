import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, SLOW_PROCEDURE, exampleStateMachine } from './util';
import { RedshiftSqlTask } from '../../src';

/** The table the concurrent writers append to. */
export const WRITES_TABLE = 'public.writes';
export const WRITES_CREATE_SQL = `CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (writer int NOT NULL, seen bigint NOT NULL)`;
export const WRITES_DROP_SQL = `DROP TABLE IF EXISTS ${WRITES_TABLE}`;

/** How many writers run at once when the input names none. */
export const DEFAULT_WRITERS = 4;

/**
 * Concurrent writers on one table: every writer reads the table and appends to it in one transaction that stays open
 * a second, all at once (a `Map` without a concurrency limit). Redshift runs transactions SERIALIZABLE, so writers that
 * overlap fail with its serializable isolation violation (error 1023): `RedshiftSqlTask` reports it as
 * `SerializationConflict` and runs the SQL again after a backoff with full jitter (`conflictRetries`, here 10), so
 * every writer ends SUCCEEDED. Input: `{ "writers": [1, 2, ...] }` (by default 4 writers).
 */
export class ConcurrentWritersMachine {
  public static readonly ID = 'ConcurrentWritersRsTask';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const write = RedshiftSqlTask.jsonPath(scope, 'AppendWhatIsSeen', {
      tasker: props.tasker,
      sqlStatements: [
        `INSERT INTO ${WRITES_TABLE} SELECT CAST(:writer AS int), COUNT(*) FROM ${WRITES_TABLE}`,
        // Keeps the transaction open, so that the writers overlap.
        `CALL ${SLOW_PROCEDURE}(1)`,
      ],
      parameters: { writer: sfn.JsonPath.stringAt('$.writer') },
      conflictRetries: 10,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(10)),
      resultSelector: { 'statementId.$': '$.detail.statementId' },
      comment: 'Reads the table and appends to it in one transaction; a conflict with another writer is retried',
    });
    const writers = new sfn.Map(scope, 'Writers', {
      itemsPath: '$.writers',
      itemSelector: { 'writer.$': '$$.Map.Item.Value' },
      maxConcurrency: 0,
      resultPath: '$.written',
    }).itemProcessor(write);
    const defaults = new sfn.Pass(scope, 'DefaultWriters', {
      result: sfn.Result.fromObject({ writers: Array.from({ length: DEFAULT_WRITERS }, (_, index) => index + 1) }),
    });
    const start = new sfn.Choice(scope, 'WritersGiven')
      .when(sfn.Condition.isPresent('$.writers'), writers)
      .otherwise(defaults.next(writers));
    writers.next(new sfn.Succeed(scope, 'AllWritten'));

    this.stateMachine = exampleStateMachine(scope, ConcurrentWritersMachine.ID, start, {
      logGroup: props.logGroup,
      timeout: Duration.hours(1),
      comment: 'Concurrent writers on one table: serialization conflicts retried until every writer succeeded',
    });
  }
}
