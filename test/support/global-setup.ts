/**
 * Makes sure the bundled handlers in assets/ are fresh before any test loads them (the build bundles them in
 * pre-compile; this covers running jest on its own after editing lambda/ or src/contract.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export default function globalSetup(): void {
  const bundle = join(root, 'assets', 'handler', 'index.js');
  const sources = Math.max(newestMtime(join(root, 'lambda')), statSync(join(root, 'src', 'contract.ts')).mtimeMs);
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    execFileSync('npx', ['projen', 'bundle:lambda'], { cwd: root, stdio: 'inherit' });
  }
}
