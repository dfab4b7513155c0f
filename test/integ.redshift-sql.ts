/**
 * Integration test (integ-runner, `@aws-cdk/integ-tests-alpha`): a tasker on Redshift Serverless, RedshiftSql
 * resources that create a table and a row (a bound parameter), and a state machine of RedshiftSqlTask and
 * RedshiftStatementTask states in JSONPath and JSONata; the assertion starts an execution and expects SUCCEEDED.
 *
 * With an AWS account: `npx integ-runner --language typescript --app "npx tsx {filePath}" --update-on-failed`
 * (deploys, asserts, destroys, updates the snapshot). CI checks the snapshot without deploying (`npx projen integ`).
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration } from 'aws-cdk-lib';
import { sqlIntegStack } from './support/sql-integ-stack';

const app = new App();
const { machine } = sqlIntegStack(app);

// ---- The assertion: an execution succeeds ----
const integ = new IntegTest(app, 'RedshiftSql', { testCases: [machine.stack] });
const started = integ.assertions.awsApiCall('StepFunctions', 'startExecution', {
  stateMachineArn: machine.stateMachineArn,
  input: JSON.stringify({ region: 'EMEA' }),
});
integ.assertions.awsApiCall('StepFunctions', 'describeExecution', { executionArn: started.getAttString('executionArn') })
  .expect(ExpectedResult.objectLike({ status: 'SUCCEEDED' }))
  .waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(20) });
