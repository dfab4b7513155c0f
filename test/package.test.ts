/**
 * The npm package ships the library and nothing else: the compiled library and its jsii assembly (without source
 * maps), the tasker's handler bundle, API.md, README.md, LICENSE and the picture the README shows. The build compiles lib/ before the
 * tests run; run `npx projen compile` first when running this file on its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

/** Every file of the package must match one of these. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^API\.md$/,
  /^\.jsii$/,
  /^lib\/(private\/)?[a-z-]+\.(js|d\.ts)$/,
  /^assets\/handler\/index\.js(\.LEGAL\.txt)?$/,
  /^images\/[a-z-]+\.png$/,
];

/** Files the package cannot work without. */
const REQUIRED = ['package.json', 'README.md', 'LICENSE', 'API.md', '.jsii', 'lib/index.js', 'lib/index.d.ts', 'assets/handler/index.js'];

interface PackResult {
  readonly files: { readonly path: string; readonly size: number }[];
}

function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [result] = JSON.parse(output) as PackResult[];
  return result.files.map((file) => file.path).sort();
}

describe('npm package', () => {
  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'lib', 'index.js')) || !existsSync(path.join(ROOT, '.jsii'))) {
      throw new Error('lib/ or .jsii is missing: run `npx projen compile` (the build does) before this test.');
    }
  });

  test('ships only the library, its handler bundle and its documentation', () => {
    const files = packedFiles();
    const unexpected = files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
    expect(unexpected).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(REQUIRED));
  });

  test('ships no source map: a stack trace points at lib/*.js, which it ships, not at src/*.ts, which it does not', () => {
    const scripts = packedFiles().filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const mapped = scripts.filter((file) => /[#@] sourceMappingURL=/.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(mapped).toEqual([]);
    expect(packedFiles().filter((file) => file.endsWith('.map'))).toEqual([]);
  });

  test('ships no example app, example bundle, benchmark or reliability record, test fixture or source', () => {
    const files = packedFiles();
    const forbidden = files.filter((file) => /integ\.default|machines\/|cfn-|example|benchmarks|reliability|^test\/|^local\/|^bench\/|^lambda\/|^src\/|\.ts$(?<!\.d\.ts)/.test(file));
    expect(forbidden).toEqual([]);
  });
});
