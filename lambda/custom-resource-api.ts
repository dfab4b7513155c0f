/**
 * The part of the handler's code that a custom-resource function in front of the tasker may use: the
 * CloudFormation response exactly as the tasker builds and sends it (the failed-Create physical id, the 4,096-byte
 * limit, retried PUTs), and the invocation API's names and limits. Everything else in `lambda/` is internal to the
 * handler. The example app's `manage_user` function (`example/custom-resources`) is built on this module only.
 */
export type { CloudFormationResponse, HttpPut } from './cfn-callback';
export { cloudFormationResponse, failedCreatePhysicalId, nodeHttpPut, sendCloudFormationResponse } from './cfn-callback';
export { CustomResource, Field, Limits, show } from '../src/contract';
