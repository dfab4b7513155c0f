/**
 * What checkov (CloudFormation framework) reports on the tasker's templates, and why each finding of the default
 * template is accepted. The checkov step (test/bindings/checkov.ts) fails on a finding that is not listed here and on a listed one
 * that no longer occurs; docs/reliability.md shows this list (`renderSecurityScan`, checked by test/bindings/checkov-doc.test.ts).
 */

/** A check that fails on the default template, on purpose. */
export interface AcceptedFinding {
  /** checkov's check id. */
  readonly check: string;
  /** The CloudFormation type of the resources it fails on. */
  readonly resourceType: string;
  /** checkov's title of the check. */
  readonly title: string;
  /** Which resources of the tasker. */
  readonly resources: string;
  /** Why the default is what it is. */
  readonly reason: string;
  /** The prop that turns the hardening on. */
  readonly hardening: string;
}

/** The checkov version of the figures below (pinned in test/bindings/python/requirements.txt). */
export const CHECKOV_VERSION = '3.3.30';

/** Figures of the last scan, by template (test/bindings/checkov.ts prints them; update them here when they change). */
export const MEASURED = {
  default: { passed: 56, failed: 6 },
  hardened: { passed: 75, failed: 0 },
  seconds: 4,
};

export const ACCEPTED_FINDINGS: readonly AcceptedFinding[] = [
  {
    check: 'CKV_AWS_119',
    resourceType: 'AWS::DynamoDB::Table',
    title: 'Ensure DynamoDB Tables are encrypted using a KMS Customer Managed CMK',
    resources: 'the tracking table',
    reason: 'It is encrypted at rest with the AWS-managed key of DynamoDB. It holds the state of statements in flight '
      + '(ids, task tokens, response URLs) for a day; a customer-managed key adds a key to pay for and a key policy to '
      + 'keep, which is the user\'s choice.',
    hardening: '`customerManagedKey` (or `dynamoTableProps.encryptionKey`)',
  },
  {
    check: 'CKV_AWS_158',
    resourceType: 'AWS::Logs::LogGroup',
    title: 'Ensure that CloudWatch Log Group is encrypted by KMS',
    resources: 'the functions\' log groups',
    reason: 'CloudWatch Logs encrypts log data at rest by default. A KMS key needs a key policy that lets the regional '
      + 'CloudWatch Logs principal use it, which the construct can write only for a key of the app.',
    hardening: '`customerManagedKey` (the construct adds the key policy statement to a `kms.Key` of the app)',
  },
  {
    check: 'CKV_AWS_116',
    resourceType: 'AWS::Lambda::Function',
    title: 'Ensure that AWS Lambda function is configured for a Dead Letter Queue(DLQ)',
    resources: 'the starter function',
    reason: 'Step Functions and the SQS event source invoke it synchronously (failed completion events go to the '
      + 'completion queue\'s dead-letter queue). Its asynchronous invocations recover without one: the next sweep '
      + 'redoes a failed sweep, and CloudFormation fails a request that got no answer after `serviceTimeout`.',
    hardening: '`starterLambdaFunctionProps.deadLetterQueue` or `onFailure`',
  },
  {
    check: 'CKV_AWS_117',
    resourceType: 'AWS::Lambda::Function',
    title: 'Ensure that AWS Lambda function is configured inside a VPC',
    resources: 'the starter function',
    reason: 'It calls only AWS APIs over HTTPS (the Data API, DynamoDB, Step Functions, SQS) and needs no network '
      + 'access to the cluster; in a VPC it needs endpoints or a NAT gateway for each of them, which depend on the '
      + 'user\'s network.',
    hardening: '`starterLambdaFunctionProps.vpc` (and `completerLambdaFunctionProps.vpc`)',
  },
  {
    check: 'CKV_AWS_115',
    resourceType: 'AWS::Lambda::Function',
    title: 'Ensure that AWS Lambda function is configured for function-level concurrent execution limit',
    resources: 'the starter function',
    reason: 'A reservation takes concurrency from the account\'s pool and throttles the starts beyond it, which fails '
      + 'the tasks that made them; the right number depends on the workload.',
    hardening: '`starterLambdaFunctionProps.reservedConcurrentExecutions` (with `completerMaxConcurrency` below it)',
  },
  {
    check: 'CKV_AWS_173',
    resourceType: 'AWS::Lambda::Function',
    title: 'Check encryption settings for Lambda environment variable',
    resources: 'the starter function',
    reason: 'Lambda encrypts environment variables at rest with its AWS-managed key, and the tasker\'s hold no '
      + 'secret: names of the table, the cluster or workgroup, the database and the user, a secret\'s ARN, settings.',
    hardening: '`customerManagedKey` (or `environmentEncryption` in the function options)',
  },
];

/** The section of docs/reliability.md on the scan. */
export function renderSecurityScan(): string[] {
  const out: string[] = [];
  out.push('## Infrastructure scan (checkov)');
  out.push('');
  out.push(`CI runs checkov ${CHECKOV_VERSION} (CloudFormation framework, offline: \`--skip-download\`) next to cfn-lint over two`);
  out.push('templates, each a tasker with a SQL task in a state machine and SQL in the stack (`RedshiftSql`):');
  out.push(`\`SecurityScanDefault\` with the default props (${MEASURED.default.passed} checks passed, ${MEASURED.default.failed} failed), and`);
  out.push('`SecurityScanHardened` with the hardening props of the README (`customerManagedKey`, and the starter function\'s');
  out.push(`\`vpc\`, \`reservedConcurrentExecutions\` and \`deadLetterQueue\`: ${MEASURED.hardened.passed} passed, ${MEASURED.hardened.failed} failed). The scan of both took`);
  out.push(`${MEASURED.seconds} s. The step fails when the hardened template fails a check, or when the default template fails a`);
  out.push('check not accepted below (or no longer fails an accepted one):');
  out.push('');
  out.push('| Check | Fails on | Why it is the default | Turned on by |');
  out.push('| --- | --- | --- | --- |');
  for (const f of ACCEPTED_FINDINGS) {
    out.push(`| ${f.check}: ${f.title} | ${f.resources} | ${f.reason} | ${f.hardening} |`);
  }
  out.push('');
  out.push('```sh');
  out.push('npx projen lint:templates   # cfn-lint and checkov over the synthesized templates (needs Python)');
  out.push('```');
  out.push('');
  return out;
}
