/**
 * The README's deploy path works up to `cdk synth`, offline: the real CDK CLI runs the example app with the
 * repository's cdk.json (its TypeScript entry through tsx, so this test needs no compile), with notices, version
 * reporting and telemetry off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureExampleBundles } from './support';

const root = join(__dirname, '..', '..');
const config = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8'));

test('cdk.json: the example app\'s entry, its bundles built first, offline-friendly settings', () => {
  expect(config).toEqual(expect.objectContaining({
    app: 'npx tsx src/integ.default.ts',
    build: 'npx projen bundle:example',
    notices: false,
    versionReporting: false,
    context: { 'cli-telemetry': false },
  }));
  const tasks = JSON.parse(readFileSync(join(root, '.projen', 'tasks.json'), 'utf8')).tasks;
  expect(tasks['bundle:example'].steps[0]).toEqual({ spawn: 'bundle:lambda' });
});

test('cdk synth of the example app succeeds offline and writes the stack template', () => {
  ensureExampleBundles();
  // The repository's cdk.json, run from a temporary directory without its build command: rebuilding the bundles here
  // would rewrite files that tests running in parallel load.
  const work = mkdtempSync(join(tmpdir(), 'example-synth-'));
  try {
    const { build: _build, ...settings } = config;
    writeFileSync(join(work, 'cdk.json'), JSON.stringify({ ...settings, app: `${join(root, 'node_modules', '.bin', 'tsx')} ${join(root, 'src', 'integ.default.ts')}` }));
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' };
    // No credentials at all: the CLI must not need an account to synthesize.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION']) {
      delete env[name];
    }
    const result = spawnSync(join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet'],
      { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(readFileSync(join(work, 'cdk.out', 'integ-test-stack.template.json'), 'utf8'));
    const types = Object.values<any>(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'AWS::StepFunctions::StateMachine')).toHaveLength(11);
    expect(types).toContain('AWS::Redshift::Cluster');
    // No CLI notice in the output (cdk.json turns notices off).
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/NOTICES/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
