/** Shared helpers of the construct tests. */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { testApp } from '../support/temp';

/** A fresh app (its cloud assembly removed after the test file) and environment-agnostic stack. */
export function newStack(id = 'TestStack'): Stack {
  return new Stack(testApp(), id);
}

/** `arn:${Partition}:<service>:${Region}:${AccountId}:<resource>` as CloudFormation renders `Stack.formatArn`. */
export function stackArn(service: string, resource: string): unknown {
  return {
    'Fn::Join': ['', [
      'arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`,
    ]],
  };
}

/** `Fn::GetAtt <logicalId>.Arn`. */
export function getAttArn(logicalId: string): unknown {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

/** The one resource of `type` whose logical id starts with `prefix`; fails unless there is exactly one. */
export function findResource(template: Template, type: string, prefix: string): { id: string; props: any; raw: any } {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) {
    throw new Error(`Expected one ${type} with logical id ${prefix}*, found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  }
  const [id, raw] = matches[0];
  return { id, props: raw.Properties, raw };
}

/** The logical id of the one resource of `type` with that prefix. */
export function findLogicalId(template: Template, type: string, prefix: string): string {
  return findResource(template, type, prefix).id;
}

/** The statements of the IAM policy whose logical id starts with `prefix`. */
export function policyStatements(template: Template, prefix: string): any[] {
  return findResource(template, 'AWS::IAM::Policy', prefix).props.PolicyDocument.Statement;
}
