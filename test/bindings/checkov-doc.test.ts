/**
 * docs/reliability.md shows the checkov findings the default template is allowed to have, each with its reason, as
 * the checkov step (test/bindings/checkov.ts) enforces them; and the scanned variants are the ones the doc names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VARIANTS } from './variants';
import { ACCEPTED_FINDINGS, CHECKOV_VERSION, renderSecurityScan } from '../../bench/security-scan';

const ROOT = join(__dirname, '..', '..');

test('docs/reliability.md has the scan section as bench/reliability-report.ts renders it', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'reliability.md'), 'utf8');
  expect(doc).toContain(renderSecurityScan().join('\n'));
  for (const finding of ACCEPTED_FINDINGS) expect(doc).toContain(`| ${finding.check}: ${finding.title} |`);
});

test('the checkov version of the figures is the one the bindings venv installs', () => {
  const requirements = readFileSync(join(__dirname, 'python', 'requirements.txt'), 'utf8');
  expect(requirements).toMatch(new RegExp(`^checkov==${CHECKOV_VERSION.replace(/\./g, '\\.')}$`, 'm'));
});

test('the scanned variants exist', () => {
  expect(Object.keys(VARIANTS)).toEqual(expect.arrayContaining(['SecurityScanDefault', 'SecurityScanHardened']));
});
