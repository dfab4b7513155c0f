/**
 * The Lambda bundles the example app deploys (built by `npx projen bundle:example`: the tasker's handler in assets/,
 * the example's custom-resource function in example/.bundles/), rebuilt when missing or older than their sources —
 * for test runs, the local run and the benchmarks started without a full build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The project's root directory. */
export const PROJECT_ROOT = join(__dirname, '..');
const ROOT = PROJECT_ROOT;

/** The bundles the construct and the example app deploy, by name: their directories. */
const BUNDLE_DIRS = {
  'handler': join(ROOT, 'assets', 'handler'),
  'manage-user': join(ROOT, 'example', '.bundles', 'manage-user'),
} as const;
export const BUNDLES = Object.keys(BUNDLE_DIRS) as (keyof typeof BUNDLE_DIRS)[];

/** The bundled file of `name`. */
export function bundlePath(name: typeof BUNDLES[number]): string {
  return join(BUNDLE_DIRS[name], 'index.js');
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the bundles if any is missing or older than its sources (or `src/contract.ts`); returns whether it did. */
export function ensureBundles(log: (line: string) => void = () => undefined): boolean {
  const sources = Math.max(newestSource(join(ROOT, 'lambda')), newestSource(join(ROOT, 'example', 'custom-resources')),
    statSync(join(ROOT, 'src', 'contract.ts')).mtimeMs);
  const stale = BUNDLES.some((name) => !existsSync(bundlePath(name)) || statSync(bundlePath(name)).mtimeMs < sources);
  if (!stale) return false;
  log('Building the Lambda bundles (npx projen bundle:example)...');
  execFileSync('npx', ['projen', 'bundle:example'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}
