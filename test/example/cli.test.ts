/**
 * The README's deploy path works up to `cdk synth`, offline: the real CDK CLI runs the example app (from its
 * TypeScript source, so this test needs no compile), with notices, version reporting and telemetry off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureExampleBundles } from './support';

const root = join(__dirname, '..', '..');

test('cdk synth of the example app succeeds offline and writes the stack template', () => {
  ensureExampleBundles();
  const out = mkdtempSync(join(tmpdir(), 'example-synth-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' };
    // No credentials at all: the CLI must not need an account to synthesize.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION']) {
      delete env[name];
    }
    const result = spawnSync(join(root, 'node_modules', '.bin', 'cdk'), [
      'synth', '--app', `${join(root, 'node_modules', '.bin', 'tsx')} src/integ.default.ts`,
      '--no-notices', '--no-version-reporting', '--no-lookups', '--quiet', '-o', out,
    ], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(readFileSync(join(out, 'integ-test-stack.template.json'), 'utf8'));
    const types = Object.values<any>(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'AWS::StepFunctions::StateMachine')).toHaveLength(7);
    expect(types).toContain('AWS::Redshift::Cluster');
    // No CLI notice in the output (notices are off).
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/NOTICES/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
