/**
 * The functions of a tasker: created from the bundled handler, or adopted (an existing function running the
 * handler), and the policy that gives one of them what the handler needs.
 */
import * as path from 'node:path';
import { Annotations, CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_LOG_RETENTION, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, WARNING_PREFIX } from './defaults';
import { allowLogsToUseKey } from './encryption';
import { NagSuppression, addNagSuppressions } from './nag';
import { xrayStatement } from './permissions';

/** The bundled handler (one asset for every tasker of an app). `__dirname` is `src/private/` in tests, `lib/private/` when published. */
const HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'handler');
const FUNCTION_DESCRIPTION = 'SfnRedshiftTasker: runs SQL on Amazon Redshift with the Data API and calls back '
  + 'Step Functions tasks and CloudFormation custom resources when it completes';

/** A function the tasker uses, created or existing. */
export interface ResolvedFunction {
  readonly fn: lambda.IFunction;
  /** The role to attach permissions to (`undefined`: unknown, the user grants them). */
  readonly role?: iam.IRole;
  /** Whether the construct created the function. */
  readonly created: boolean;
  /** Whether the construct configured X-Ray tracing (and must grant it). */
  readonly tracing: boolean;
  /** The log group of a function the construct created (and must grant writing to). */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * Creates a function from the bundled handler (`<prefix>Function`, with its role and log group), or adopts an
 * existing one, adding the handler's environment where possible and warning where not. `key` (the tasker's
 * `customerManagedKey`) encrypts the log group the construct creates and, unless the options choose another key, the
 * environment variables.
 */
export function resolveFunction(
  scope: Construct, prefix: 'Starter' | 'Completer', existing: lambda.IFunction | undefined,
  options: lambda.FunctionOptions | undefined, environment: Record<string, string>, key?: kms.IKey,
): ResolvedFunction {
  if (existing !== undefined) return adoptFunction(scope, prefix, existing, environment);

  const { environment: extraEnvironment, tracing, role: userRole, logGroup: userLogGroup, ...rest } = options ?? {};
  const role = userRole ?? createRole(scope, prefix, rest.vpc !== undefined);
  if (userLogGroup === undefined && key !== undefined) allowLogsToUseKey(scope, key);
  const logGroup = userLogGroup ?? new logs.LogGroup(scope, `${prefix}LogGroup`, { retention: DEFAULT_LOG_RETENTION, encryptionKey: key });
  const fn = new lambda.Function(scope, `${prefix}Function`, {
    description: FUNCTION_DESCRIPTION,
    memorySize: DEFAULT_MEMORY_MB,
    timeout: DEFAULT_TIMEOUT,
    architecture: lambda.Architecture.ARM_64,
    ...rest,
    environmentEncryption: rest.environmentEncryption ?? key,
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(HANDLER_ASSET),
    role,
    logGroup,
    environment: { ...extraEnvironment, ...environment },
  });
  // aws-cdk-lib grants sqs:SendMessage on a dead-letter queue, not the use of its key, which sending needs.
  const deadLetterKey = rest.deadLetterQueue?.encryptionMasterKey;
  if (deadLetterKey !== undefined) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [deadLetterKey.keyArn] }));
  }
  // Tracing is configured here rather than through `tracing`, so that its permission goes to this construct's
  // policy (with a suppression that names it) instead of the role's default policy, where user grants go.
  const tracingMode = tracing ?? lambda.Tracing.ACTIVE;
  if (tracingMode !== lambda.Tracing.DISABLED) {
    (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: tracingMode };
  }
  return { fn, role, created: true, tracing: tracingMode !== lambda.Tracing.DISABLED, logGroup };
}

function adoptFunction(
  scope: Construct, prefix: string, existing: lambda.IFunction, environment: Record<string, string>,
): ResolvedFunction {
  const which = prefix.toLowerCase();
  if (existing instanceof lambda.Function) {
    for (const [key, value] of Object.entries(environment)) existing.addEnvironment(key, value);
  } else {
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:existingFunctionEnvironment`, `The existing ${which} `
      + `function ${existing.node.path} is not a lambda.Function of this app, so the construct cannot set its `
      + `environment; set these variables on it yourself: ${Object.keys(environment).join(', ')}.`);
  }
  if (existing.role === undefined) {
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:existingFunctionRole`, `The role of the existing ${which} `
      + `function ${existing.node.path} is unknown, so the construct cannot grant it the permissions the handler `
      + 'needs; grant them yourself (see the README, "Permissions").');
  }
  return { fn: existing, role: existing.role, created: false, tracing: false };
}

/**
 * The execution role of a function the construct creates: no managed policies (logging and tracing are granted by
 * the construct's policies), except the one Lambda needs to manage network interfaces in a VPC, as aws-cdk-lib adds.
 */
function createRole(scope: Construct, prefix: string, inVpc: boolean): iam.Role {
  const role = new iam.Role(scope, `${prefix}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the ${prefix.toLowerCase()} function of ${scope.node.path} (SfnRedshiftTasker)`,
  });
  if (inVpc) {
    role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    addNagSuppressions(role.node.defaultChild as CfnResource, [{
      id: 'AwsSolutions-IAM4',
      reason: 'A function in a VPC needs to create, describe and delete its network interfaces; this AWS-managed '
        + 'policy grants exactly those actions and is the one aws-cdk-lib attaches to functions in a VPC.',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
    }]);
  }
  return role;
}

/**
 * Attaches a policy with `statements` (plus logging and tracing for created functions) to the function's role.
 * Returns `undefined` when the role is unknown.
 */
export function attachPolicy(
  scope: Construct, id: string, target: ResolvedFunction, statements: iam.PolicyStatement[], suppressions: NagSuppression[],
): iam.Policy | undefined {
  if (target.role === undefined) return undefined;
  const all = [...statements];
  if (target.logGroup !== undefined) {
    all.push(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [target.logGroup.logGroupArn],
    }));
  }
  if (target.tracing) all.push(xrayStatement());
  const policy = new iam.Policy(scope, id, { statements: all });
  policy.attachToRole(target.role);
  // A function the construct creates must not run (custom resources may invoke it during the deployment) before
  // its permissions exist.
  if (target.created) target.fn.node.addDependency(policy);
  if (suppressions.length > 0) addNagSuppressions(policy.node.defaultChild as CfnResource, suppressions);
  return policy;
}
