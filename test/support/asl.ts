/**
 * State machine definitions from synthesized stacks, resolved as CloudFormation would (`Ref`, `Fn::GetAtt`,
 * `Fn::Join`; account 123456789012, Region eu-west-1), and checked with the `asl-validator` package (JSON schema of
 * the Amazon States Language in JSONPath and JSONata, transitions, paths, ARNs).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { CfnTemplate, LocalTemplate } from '../../local/cloudformation/template';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations
const aslValidator = require('asl-validator') as (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => {
  isValid: boolean; errorsText: (separator?: string) => string;
};

/** The resolved definition of `machine` in `stack`'s template. */
export function definitionOf(stack: Stack, machine: sfn.StateMachine): Record<string, any> {
  const template = new LocalTemplate(Template.fromStack(stack).toJSON() as CfnTemplate, {
    region: 'eu-west-1', accountId: '123456789012', stackName: stack.stackName,
  });
  const logicalId = stack.resolve((machine.node.defaultChild as sfn.CfnStateMachine).logicalId);
  return JSON.parse(String(template.resolve(template.resource(logicalId).Properties!.DefinitionString)));
}

/** The validator's complaints about a definition (empty when it is valid ASL). */
export function aslErrors(definition: unknown): string {
  const result = aslValidator(JSON.parse(JSON.stringify(definition)), { checkPaths: true, checkArn: true });
  return result.isValid ? '' : result.errorsText('\n');
}

/** The retry of the Lambda service errors (`tasks.LambdaInvoke`'s, and the first of the tasker's tasks). */
export const LAMBDA_SERVICE_RETRY = {
  ErrorEquals: ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};

/** The retry of a serializable isolation violation (`RedshiftSqlTask`'s third, when it waits for the callback). */
export const CONFLICT_RETRY = {
  ErrorEquals: ['SerializationConflict'],
  IntervalSeconds: 2,
  MaxAttempts: 3,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

/** The retry of the Data API's errors after which the statement did not start (the second of the tasker's tasks). */
export const DATA_API_RETRY = {
  ErrorEquals: ['ActiveStatementsExceededException', 'ActiveSessionsExceededException', 'InternalServerException', 'DatabaseConnectionException'],
  IntervalSeconds: 10,
  MaxAttempts: 5,
  BackoffRate: 2,
};
