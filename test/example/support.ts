/** Shared helpers of the example-app tests: the bundles the app loads, a synthesized app, parsed state machines. */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IntegTesting } from '../../example/stack';
import { ensureBundles } from '../../local/bundles';
import { testApp } from '../support/temp';

/** Bundles the Lambda functions when a bundle is missing or older than its sources. */
export function ensureExampleBundles(): void {
  ensureBundles();
}

/** The example app, synthesized for a fixed account and Region. */
export function synthesizeExample(): { integ: IntegTesting; template: Template; resources: Record<string, any> } {
  ensureExampleBundles();
  const integ = new IntegTesting({ app: testApp(), env: { account: '123456789012', region: 'eu-west-1' } });
  const template = Template.fromStack(integ.stack);
  return { integ, template, resources: template.toJSON().Resources };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | unknown): string {
  const element = (construct as { node?: { defaultChild?: unknown } }).node?.defaultChild ?? construct;
  return stack.resolve((element as { logicalId: string }).logicalId);
}

/**
 * A state machine's definition as JSON: the `Fn::Join` of `DefinitionString`, with every token (a function or state
 * machine ARN) replaced by `${LogicalId}` / `${LogicalId.Attribute}` / `${Pseudo}`.
 */
export function definitionOf(resources: Record<string, any>, machineLogicalId: string): any {
  const definition = resources[machineLogicalId].Properties.DefinitionString;
  if (typeof definition === 'string') return JSON.parse(definition);
  const [separator, parts] = definition['Fn::Join'];
  const text = (parts as unknown[]).map((part) => {
    if (typeof part === 'string') return part;
    const token = part as Record<string, any>;
    if (token.Ref !== undefined) return `\${${token.Ref}}`;
    if (token['Fn::GetAtt'] !== undefined) return `\${${token['Fn::GetAtt'].join('.')}}`;
    throw new Error(`unexpected token in DefinitionString: ${JSON.stringify(part)}`);
  }).join(separator);
  return JSON.parse(text);
}

export { nag } from '../support/nag';
