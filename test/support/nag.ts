/** cdk-nag in tests: the findings the AwsSolutions pack leaves unsuppressed. */
import { Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

/** Runs the AwsSolutions pack over the stack; returns its unsuppressed errors and warnings as `path: rule: message`. */
export function nag(stack: Stack): { errors: string[]; warnings: string[] } {
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const annotations = Annotations.fromStack(stack);
  const format = (message: { id: string; entry: { data?: unknown } }) => `${message.id}: ${String(message.entry.data).split('\n')[0]}`;
  return {
    errors: annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')).map(format),
    warnings: annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')).map(format),
  };
}
