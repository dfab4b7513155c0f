/**
 * The handler's build evaluates each SDK client package on first use: its stand-ins define the names each module
 * imports, read from the module's source. A form of import the stand-ins cannot serve fails the build.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerEnvironment } from '../../local/lambda/handler';
import { bundleHandler, importedNames } from '../../projenrc/bundle-handler';

/** A closed loopback port: nothing is called in these tests. */
const CLOSED = 'http://127.0.0.1:9';

const PKG = '@aws-sdk/client-sfn';

test('named imports, renamed and type-only names included; type-only imports ignored', () => {
  const source = [
    `import type { SFNClientConfig } from '${PKG}';`,
    'import {',
    '  SFNClient,',
    '  SendTaskSuccessCommand as Success,',
    '  type SendTaskSuccessOutput,',
    `} from '${PKG}';`,
    `import { DescribeExecutionCommand } from "${PKG}";`,
    'import { DynamoDBClient } from \'@aws-sdk/client-dynamodb\';',
  ].join('\n');
  expect(importedNames(source, PKG, 'x.ts')).toEqual(['DescribeExecutionCommand', 'SFNClient', 'SendTaskSuccessCommand']);
});

test.each([
  [`import * as sfn from '${PKG}';`],
  [`import sfn from '${PKG}';`],
  [`import '${PKG}';`],
  [`export { SFNClient } from '${PKG}';`],
  [`const sfn = require('${PKG}');`],
])('another import form fails the build: %s', (source) => {
  expect(() => importedNames(source, PKG, 'lambda/x.ts')).toThrow(/lambda\/x\.ts: import @aws-sdk\/client-sfn only as `import \{ Name \}/);
});

test('an invalid request evaluates none of the SDK client packages (V8 coverage of an unminified build)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-imports-'));
  try {
    const bundle = join(dir, 'index.js');
    await bundleHandler(bundle, { minify: false });
    const coverage = join(dir, 'coverage');
    const env = handlerEnvironment({ dynamodb: CLOSED, sfn: CLOSED, redshiftData: CLOSED }, 'table');
    const probe = 'require(process.argv[1]).handler({}).catch((e) => process.stdout.write(e.name))';
    const out = execFileSync(process.execPath, ['-e', probe, bundle], {
      encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env, NODE_V8_COVERAGE: coverage },
    });
    expect(out).toBe('InvalidRequest');
    const ran = new Set<string>();
    for (const file of readdirSync(coverage)) {
      const { result } = JSON.parse(readFileSync(join(coverage, file), 'utf8')) as {
        result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
      };
      for (const script of result) for (const fn of script.functions) if (fn.ranges[0]?.count > 0) ran.add(fn.functionName);
    }
    // Module wrappers are seen (some ran: the coverage works); none of a client package ran.
    expect([...ran].filter((name) => name.startsWith('node_modules/')).length).toBeGreaterThan(0);
    expect([...ran].filter((name) => /node_modules\/@aws-sdk\/(client-|lib-dynamodb)/.test(name))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
