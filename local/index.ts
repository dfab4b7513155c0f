/**
 * cdk-stepfunctions-redshift-local: run the state machines and `RedshiftSql` custom resources of your CDK app on
 * this machine — PostgreSQL for Redshift, local stand-ins for the AWS services on 127.0.0.1, your Node.js Lambda
 * functions from the synthesized assets, mocked responses (Step Functions Local's format) for everything else.
 */
export { LocalApp } from './local-app';
export type { LocalAppOptions, RanStatement, RunOptions, RunResult } from './local-app';
export { LocalAppError, DEFAULT_ENV } from './assembly';
export type { AppLike, AppSource, MachineInfo, StackLike } from './assembly';
export { MockConfigError, readMockConfig, validateMockConfig } from './mocks';
export type { MockAnswer, MockConfig } from './mocks';
export { formatTrace, formatResult } from './format';
export { DROPPED_CLAUSES, REDSHIFT_ONLY } from './dialect';
export type { CustomResourceOutcome } from './cloudformation/driver';
export type { TraceEvent } from './stepfunctions/trace';
