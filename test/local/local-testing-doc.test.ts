/**
 * The complete jest example of docs/local-testing.md runs as written: its stack file and its test file are taken
 * from the guide, transpiled, and their tests registered here (the package names resolved to this repository's
 * sources: `cdk-stepfunctions-redshift` → src/, `cdk-stepfunctions-redshift-local` → local/index.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { ensureBundles } from '../../local/bundles';
import * as localRunner from '../../local/index';
import * as library from '../../src';

const ROOT = join(__dirname, '..', '..');
const GUIDE = readFileSync(join(ROOT, 'docs', 'local-testing.md'), 'utf8');
const [stackFile, testFile] = [...GUIDE.matchAll(/```ts nofixture\n([\s\S]*?)```/g)].map((match) => match[1]);

/** Transpiles a sample and runs it as a CommonJS module whose imports `resolve` maps. */
function load(source: string, resolve: (name: string) => unknown): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const module = { exports: {} as Record<string, unknown> };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  // `jest` is a module-scope binding of each test file, not a global: the sample gets this file's.
  new Function('require', 'module', 'exports', 'jest', outputText)(resolve, module, module.exports, jest);
  return module.exports;
}

test('the guide has the stack file and the test file', () => {
  expect(stackFile).toMatch(/^\/\/ lib\/orders-stack\.ts/);
  expect(testFile).toMatch(/^\/\/ test\/orders\.test\.ts/);
});

/** The samples' other imports (aws-cdk-lib, constructs), by name at run time. */
function requireByName(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name);
}

ensureBundles();
const stackModule = load(stackFile, (name) => (name === 'cdk-stepfunctions-redshift' ? library : requireByName(name)));
// The guide's tests, registered in this file.
load(testFile, (name) => {
  if (name === 'cdk-stepfunctions-redshift-local') return localRunner;
  if (name === '../lib/orders-stack') return stackModule;
  return requireByName(name);
});
