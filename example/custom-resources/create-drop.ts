/**
 * Example custom resource `create_drop`: runs `create_sql` on Create and `drop_sql` on Delete through the
 * SfnRedshiftStarter function, which answers CloudFormation when the statement ends. See README.md.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { planCreateDrop } from './create-drop-sql';
import { Outcome, handleCustomResource } from './custom-resource';
import { TASKER_FUNCTION_ENV } from './environment';
import { nodeHttpPut } from '../../lambda/custom-resource-api';

const lambda = new LambdaClient({});

export const handler = (event: CloudFormationCustomResourceEvent): Promise<Outcome> =>
  handleCustomResource(event, planCreateDrop, { lambda, put: nodeHttpPut, functionName: process.env[TASKER_FUNCTION_ENV] });
