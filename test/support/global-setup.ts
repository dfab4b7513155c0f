/**
 * Makes sure the bundled handlers in assets/ are fresh before any test loads them (the build bundles them in
 * pre-compile; this covers running jest on its own after editing lambda/ or src/contract.ts).
 */
import { ensureBundles } from '../../local/bundles';

export default function globalSetup(): void {
  ensureBundles((line) => process.stderr.write(`${line}\n`));
}
