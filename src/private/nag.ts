/**
 * cdk-nag suppressions recorded as template metadata, in the format cdk-nag reads (`Metadata.cdk_nag.rules_to_suppress`).
 *
 * Writing the metadata directly keeps cdk-nag out of the library's dependencies. The construct suppresses only
 * findings that are inherent to its design, each with the specific reason; everything else is left to the user.
 */
import { CfnResource, Stack, Token } from 'aws-cdk-lib';

/** One suppressed cdk-nag rule. */
export interface NagSuppression {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable (cdk-nag requires at least 10 characters). */
  readonly reason: string;
  /** The granular findings the suppression covers (e.g. `Resource::*`); all findings of the rule when absent. */
  readonly appliesTo?: string[];
}

interface SuppressionMetadata {
  rules_to_suppress?: { id: string; reason: string; applies_to?: string[] }[];
}

/** Adds suppressions to a resource, keeping the ones it already has. */
export function addNagSuppressions(resource: CfnResource, suppressions: readonly NagSuppression[]): void {
  const existing = (resource.getMetadata('cdk_nag') as SuppressionMetadata | undefined)?.rules_to_suppress ?? [];
  const added = suppressions.map(({ id, reason, appliesTo }) => ({
    id, reason, ...appliesTo !== undefined ? { applies_to: appliesTo } : {},
  }));
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...added] });
}

/**
 * A `Stack.formatArn` ARN as cdk-nag names it in a finding (`Resource::<this>`): the partition as `<AWS::Partition>`,
 * the region and account literally when the stack has an environment, else as `<AWS::Region>` and `<AWS::AccountId>`.
 */
export function nagArn(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}
