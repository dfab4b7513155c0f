/**
 * The example app's entry: a Redshift cluster, two taskers, the example state machines and the example CloudFormation
 * custom resources in one stack. Its code is in `example/` (see `example/README.md`); this file only runs it.
 *
 * From the repository root, `npx cdk synth` synthesizes it (offline) and `npx cdk deploy` deploys it (`cdk.json`).
 * It creates a billed ra3.large cluster: destroy the stack when you are done. Not part of the npm package.
 */
import { IntegTesting } from '../example/stack';

export * from '../example/stack';

if (require.main === module) {
  new IntegTesting().app.synth();
}
