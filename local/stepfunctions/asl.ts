/**
 * The ASL interpreter (`aws-local-stepfunctions`), loaded once for the local runner and the tests. The package is
 * ESM with a CommonJS build; it uses `Promise.withResolvers` (Node.js 22), provided here on older runtimes.
 */
const promiseStatics = Promise as unknown as { withResolvers?: () => unknown };
promiseStatics.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const asl = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });
