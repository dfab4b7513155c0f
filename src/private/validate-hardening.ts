/**
 * Synth-time validation of the hardening props: `customerManagedKey` against the other encryption props, and the
 * functions' reserved concurrency against the completion event source. Same rules as `validate.ts`: tokens are
 * skipped, and each message says what is wrong, the value received and the fix.
 */
import { Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { show } from '../contract';
import { SfnRedshiftTaskerProps } from '../tasker-props';

/** A soft problem, as `validate.ts` reports them. */
interface Warning {
  readonly id: string;
  readonly message: string;
}

function checkCustomerManagedKey(props: SfnRedshiftTaskerProps, errors: string[]): void {
  const key = props.customerManagedKey;
  if (key === undefined) return;
  const got = `got customerManagedKey ${key.node.path}`;
  if (props.encryptionKey !== undefined) {
    errors.push('customerManagedKey and encryptionKey cannot both be set: customerManagedKey already encrypts the queues; '
      + `${got} and encryptionKey ${props.encryptionKey.node.path}. Remove encryptionKey, or pass that key as customerManagedKey.`);
  }
  if (props.encryptionKeyProps !== undefined) {
    errors.push('customerManagedKey and encryptionKeyProps cannot both be set: with customerManagedKey the construct creates '
      + `no key for encryptionKeyProps to configure; ${got} and encryptionKeyProps ${show(props.encryptionKeyProps)}. `
      + 'Remove encryptionKeyProps, and configure your key where you create it.');
  }
  if (props.enableEncryptionWithCustomerManagedKey === false) {
    errors.push('customerManagedKey encrypts the queues, so they cannot use SQS-managed encryption; '
      + `${got} and enableEncryptionWithCustomerManagedKey: false. Remove enableEncryptionWithCustomerManagedKey, or `
      + 'remove customerManagedKey.');
  }
  const table = props.dynamoTableProps;
  const tableFields = [
    ...table?.encryption !== undefined ? [`dynamoTableProps.encryption ${show(table.encryption)}`] : [],
    ...table?.encryptionKey !== undefined ? [`dynamoTableProps.encryptionKey ${table.encryptionKey.node.path}`] : [],
  ];
  if (tableFields.length > 0) {
    errors.push('customerManagedKey encrypts the tracking table, so the table props cannot choose its encryption; '
      + `${got} and ${tableFields.join(' and ')}. Remove them from dynamoTableProps (the table is then `
      + 'TableEncryption.CUSTOMER_MANAGED with customerManagedKey), or remove customerManagedKey.');
  }
}

/** The options of the function that consumes the completion queue, when the construct creates it. */
function createdCompleter(props: SfnRedshiftTaskerProps): { name: string; options: lambda.FunctionOptions; starts: boolean } | undefined {
  if (props.createCallbackInfra === false || props.completerExistingLambdaObj !== undefined) return undefined;
  if (props.completerLambdaFunctionProps !== undefined) {
    return { name: 'completerLambdaFunctionProps', options: props.completerLambdaFunctionProps, starts: false };
  }
  if (props.starterExistingLambdaObj !== undefined || props.starterLambdaFunctionProps === undefined) return undefined;
  return { name: 'starterLambdaFunctionProps', options: props.starterLambdaFunctionProps, starts: true };
}

function checkReservedConcurrency(props: SfnRedshiftTaskerProps, errors: string[], warnings: Warning[]): void {
  for (const name of ['starterLambdaFunctionProps', 'completerLambdaFunctionProps'] as const) {
    const reserved = props[name]?.reservedConcurrentExecutions;
    if (reserved === 0) {
      errors.push(`${name}.reservedConcurrentExecutions must be at least 1 (0 throttles every invocation of the `
        + 'function: no statement would start or complete); got 0. Give it the concurrency the function needs, or omit it.');
    }
  }
  const completer = createdCompleter(props);
  const reserved = completer?.options.reservedConcurrentExecutions;
  if (completer === undefined || reserved === undefined || reserved === 0 || Token.isUnresolved(reserved)) return;
  const max = props.completerMaxConcurrency;
  if (max !== undefined && Token.isUnresolved(max)) return;
  const tooHigh = max === undefined || (completer.starts ? max >= reserved : max > reserved);
  if (!tooHigh) return;
  // The event source invokes at least 2 batches at once (the minimum of completerMaxConcurrency).
  const fix = completer.starts
    ? `${reserved >= 3 ? `Set completerMaxConcurrency below ${reserved}` : 'Raise the reservation to at least 3 and set completerMaxConcurrency below it'}, or give completions a separate completer.`
    : `${reserved >= 2 ? `Set completerMaxConcurrency at most ${reserved}` : 'Raise the reservation to at least 2 and set completerMaxConcurrency at most that'}.`;
  warnings.push({
    id: 'completerConcurrency',
    message: `${completer.name}.reservedConcurrentExecutions is ${reserved}, and the SQS event source of the completion `
      + `queue may invoke the function ${max === undefined ? 'with up to 1,000 concurrent batches (completerMaxConcurrency is not set)' : `${max} times at once (completerMaxConcurrency)`}`
      + `${completer.starts ? ', besides the starts and sweeps it runs' : ''}. A throttled batch returns to the queue and `
      + `counts towards maxReceiveCount, so completion events can reach the dead-letter queue without a failed callback. ${fix}`,
  });
}

/** Checks the hardening props; adds to `errors` and `warnings` as `validateProps` does. */
export function checkHardening(props: SfnRedshiftTaskerProps, errors: string[], warnings: Warning[]): void {
  checkCustomerManagedKey(props, errors);
  checkReservedConcurrency(props, errors, warnings);
}
