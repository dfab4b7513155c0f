import { Aspects, CfnResource } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { newStack } from './helpers';
import { addNagSuppressions } from '../../src/private/nag';

describe('suppression metadata', () => {
  test('is read by cdk-nag and keeps the suppressions a resource already has', () => {
    // GIVEN
    const stack = newStack();
    const queue = new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    NagSuppressions.addResourceSuppressions(queue, [{ id: 'AwsSolutions-SQS3', reason: 'A user suppression kept as is.' }]);
    // WHEN
    addNagSuppressions(queue.node.defaultChild as CfnResource, [
      { id: 'AwsSolutions-SQS2', reason: 'A suppression without applies_to.' },
      { id: 'AwsSolutions-SQS4', reason: 'A granular suppression.', appliesTo: ['finding'] },
    ]);
    Aspects.of(stack).add(new AwsSolutionsChecks());
    // THEN
    expect((queue.node.defaultChild as CfnResource).getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        { id: 'AwsSolutions-SQS3', reason: 'A user suppression kept as is.' },
        { id: 'AwsSolutions-SQS2', reason: 'A suppression without applies_to.' },
        { id: 'AwsSolutions-SQS4', reason: 'A granular suppression.', applies_to: ['finding'] },
      ],
    });
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
      .map((e) => String(e.entry.data).split(':')[0]);
    // SQS2 and SQS3 are suppressed; SQS4 (TLS) is not a granular rule, so the `finding` suppression does not apply.
    expect(errors).toEqual(['AwsSolutions-SQS4']);
  });
});
