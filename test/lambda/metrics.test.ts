/**
 * Metrics: the EMF lines the function writes (Powertools Metrics, read by CloudWatch from the log group), and what
 * each completion source measures. Real DynamoDB (dynalite), mocked Data API and Step Functions clients.
 */
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, makeDeps, sqsRecord, statusEvent } from './support';
import { EmfMetrics } from '../../lambda/metrics';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { Metric } from '../../src/contract';

/** The JSON lines written to stdout while `work` runs. */
function emfLines(work: () => void): any[] {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { written.push(String(chunk)); return true; });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return written.join('').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

describe('EMF output', () => {
  test('one line per completion: namespace, the two dimensions, and the measured values', () => {
    const [line] = emfLines(() => new EmfMetrics().statementCompleted({
      tasker: 'starter-fn', state: 'FINISHED', path: 'fastPath', durationMs: 812, callbackLatencyMs: 35, rows: 7,
    }));

    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe(Metric.NAMESPACE);
    expect(directive.Dimensions).toEqual([[Metric.SERVICE_DIMENSION, Metric.TASKER_DIMENSION]]);
    expect(directive.Metrics.map((m: any) => m.Name).sort()).toEqual([
      Metric.CALLBACK_LATENCY, Metric.FAST_PATH_COMPLETIONS, Metric.ROWS, Metric.STATEMENT_DURATION, Metric.STATEMENTS_FINISHED,
    ].sort());
    expect(line).toMatchObject({
      [Metric.SERVICE_DIMENSION]: Metric.SERVICE_NAME,
      [Metric.TASKER_DIMENSION]: 'starter-fn',
      [Metric.STATEMENT_DURATION]: 812,
      [Metric.CALLBACK_LATENCY]: 35,
      [Metric.ROWS]: 7,
      [Metric.STATEMENTS_FINISHED]: 1,
      [Metric.FAST_PATH_COMPLETIONS]: 1,
    });
  });

  test('completions of two taskers in one invocation keep their own dimension', () => {
    const metrics = new EmfMetrics();
    const lines = emfLines(() => {
      metrics.statementCompleted({ tasker: 'a', state: 'FAILED', path: 'event' });
      metrics.count(Metric.IGNORED_EVENTS, 'b');
    });
    expect(lines.map((line) => [line.Tasker, line.StatementsFailed, line.EventCompletions, line.IgnoredEvents])).toEqual([
      ['a', 1, 1, undefined], ['b', undefined, undefined, 1],
    ]);
  });
});

describe('what each source measures', () => {
  const redshiftData = mockClient(RedshiftDataClient);
  const sfn = mockClient(SFNClient);
  let dynamo: LocalDynamoDb;
  let deps: TestDeps;

  beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
  afterAll(async () => { await dynamo.close(); });
  beforeEach(async () => {
    redshiftData.reset();
    sfn.reset();
    redshiftData.on(ExecuteStatementCommand).resolves({ Id: 'statement-1' });
    redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'FAILED', Error: 'boom' });
    sfn.on(SendTaskSuccessCommand).resolves({});
    deps = await makeDeps(dynamo, { env: { AWS_LAMBDA_FUNCTION_NAME: 'completer-fn', FAST_PATH_WAIT_SECONDS: '0' } });
  });

  test('an event: the starter\'s dimension, duration from registration to the event\'s time, latency to the callback', async () => {
    const registered = Date.parse('2026-11-24T10:15:00Z');
    let clock = registered;
    deps = { ...deps, now: () => clock };
    await route(deps, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    clock = Date.parse('2026-11-24T10:15:31.250Z'); // the event's time is 10:15:30

    await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED', 3))] });

    expect(deps.metrics.completions).toEqual([{
      tasker: 'completer-fn', state: 'FINISHED', path: 'event', durationMs: 30_000, callbackLatencyMs: 1_250, rows: 3,
    }]);
  });

  test('foreign messages and events of statements of other tools are counted as ignored', async () => {
    await route(deps, { Records: [sqsRecord('not json'), sqsRecord(statusEvent('scheduler-query-1', 'x', 'FINISHED'))] });
    expect(deps.metrics.total(Metric.IGNORED_EVENTS)).toBe(2);
    expect(deps.metrics.counts[0].tasker).toBe('completer-fn');
  });
});
