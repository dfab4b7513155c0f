/**
 * The ASL interpreter (`aws-local-stepfunctions`), loaded once for the local runner and the tests. The package is
 * ESM with a CommonJS build; it needs Node.js 22 or later (`Promise.withResolvers`), as the project's tools run on 24.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const asl = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });
