/**
 * Example custom resource `manage_user`: a Redshift database user described by its properties, created, altered and
 * dropped through the SfnRedshiftStarter function, which answers CloudFormation when the SQL ends. See README.md.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Outcome, handleCustomResource } from './custom-resource';
import { TASKER_FUNCTION_ENV } from './environment';
import { planManageUser } from './manage-user-sql';
import { nodeHttpPut } from '../../lambda/custom-resource-api';

const lambda = new LambdaClient({});

export const handler = (event: CloudFormationCustomResourceEvent): Promise<Outcome> =>
  handleCustomResource(event, planManageUser, { lambda, put: nodeHttpPut, functionName: process.env[TASKER_FUNCTION_ENV] });
