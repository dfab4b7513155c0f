/**
 * Temporary directories of a test file, removed after its last test (pass or fail): `tempDir` for files a test
 * writes, `testApp` for a CDK app whose cloud assembly would otherwise land in a new `cdk.out*` directory of the
 * system's temporary directory at every synthesis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AppProps } from 'aws-cdk-lib';

const created: string[] = [];

afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A CDK app that synthesizes into a temporary directory removed after the test file. */
export function testApp(props: AppProps = {}): App {
  return new App({ ...props, outdir: props.outdir ?? tempDir('cdk.out-test-') });
}
