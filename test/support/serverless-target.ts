/**
 * The Redshift target of the integration tests: a Redshift Serverless namespace and workgroup (billed only while
 * statements run), in the account's default VPC. The taskers authenticate with their IAM identity (`IAMR:<role>`,
 * which may create tables in the `public` schema). Not named `integ.*`: a helper, not a test.
 */
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import { Construct } from 'constructs';

export interface ServerlessTarget {
  readonly workgroupName: string;
  readonly dbName: string;
  /** Add as a dependency of the taskers: their functions must not run before the workgroup exists. */
  readonly workgroup: redshiftserverless.CfnWorkgroup;
}

export function serverlessTarget(scope: Construct, name: string): ServerlessTarget {
  const dbName = 'dev';
  const namespace = new redshiftserverless.CfnNamespace(scope, 'Namespace', { namespaceName: name, dbName });
  const workgroup = new redshiftserverless.CfnWorkgroup(scope, 'Workgroup', {
    workgroupName: name,
    namespaceName: name,
    baseCapacity: 8,
    publiclyAccessible: false,
  });
  workgroup.addDependency(namespace);
  return { workgroupName: name, dbName, workgroup };
}
