/**
 * Serialization conflicts for real, through the bundled handler and the local stand-ins (PostgreSQL runs every
 * transaction SERIALIZABLE, as Redshift does): CloudFormation requests whose SQL read and write the same table at the
 * same time conflict (error 1023); the tasker runs the SQL again, as statements of their own, until each request is
 * answered once — SUCCESS for all of them — and every completion message is consumed (none in the dead-letter list).
 */
import { EVENT_PATH, Handler, invoke, loadBundledHandler } from './support/in-process';
import { completionQueue } from './support/sqs';
import { LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_TARGET } from '../../local/lambda/handler';
import { until } from '../../local/servers/sqs-queue';
import { cloudFormationEvent } from '../lambda/support';

let aws: LocalAws;
let handler: Handler;

beforeAll(async () => {
  aws = await startLocalAws({ dataApi: { engine: 'postgres' } });
  handler = loadBundledHandler(aws.env({ ...EVENT_PATH, AWS_LAMBDA_FUNCTION_NAME: 'conflict-tasker' }));
  await aws.dataApi.query(LOCAL_TARGET.database, 'create table grants_log (resource text, seen bigint)');
});
afterAll(async () => {
  await aws?.close();
});

test('4 resources writing one table at once: conflicts run again, every resource answered SUCCESS once', async () => {
  const queue = completionQueue((event) => handler(event));
  const disconnect = aws.dataApi.connectQueue(queue);
  try {
    const resources = ['GrantA', 'GrantB', 'GrantC', 'GrantD'].map((logicalId) => ({ logicalId, url: aws.cfn.newResponseUrl() }));
    const answers = await Promise.all(resources.map(({ logicalId, url }) => invoke(handler, {
      ...cloudFormationEvent('Create', url, { LogicalResourceId: logicalId, RequestId: `request-${logicalId}` }),
      // Reads the table, holds the transaction half a second, then writes: concurrent ones overlap and conflict.
      sqlStatements: [`insert into grants_log select '${logicalId}', count(*) from grants_log`, 'select pg_sleep(0.5)'],
    })));
    expect(answers.every((answer) => answer.ok)).toBe(true);

    await until(() => resources.every(({ url }) => aws.cfn.responsesFor(url).length > 0), 60_000, 'every resource answered');
    await queue.whenIdle();
    for (const { url } of resources) {
      const responses = aws.cfn.responsesFor(url);
      expect(responses).toHaveLength(1);
      expect(responses[0].body).toMatchObject({ Status: 'SUCCESS' });
    }
    const statements = aws.dataApi.statements().filter((s) => resources.some(({ logicalId }) => s.statementName?.startsWith(`${logicalId}:`)));
    const conflicts = statements.filter((s) => s.status === 'FAILED' && /\b1023\b/.test(s.error ?? ''));
    expect(conflicts.length).toBeGreaterThan(0);
    expect(statements.filter((s) => s.status === 'FINISHED')).toHaveLength(4);
    expect(statements).toHaveLength(4 + conflicts.length);
    expect((await aws.dataApi.query(LOCAL_TARGET.database, 'select count(*) from grants_log')).rows).toEqual([['4']]);
    expect(queue.deadLetters).toEqual([]);
  } finally {
    disconnect();
    queue.close();
  }
});
