/**
 * The environment of the example custom-resource functions: the name or ARN of the starter function they invoke
 * (the original's variable name). The example stack sets it; the functions read it.
 */
export const TASKER_FUNCTION_ENV = 'CDK_STEPFUNCTIONS_REDSHIFT_LAMBDA';
