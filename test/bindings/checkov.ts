/**
 * checkov (CloudFormation framework, offline) over the two `SecurityScan` variants: the hardened template must pass
 * every check; the default template must fail exactly the accepted checks (bench/security-scan.ts, docs/reliability.md).
 */
import * as path from 'node:path';
import { checkov, ensureVenv } from './languages';
import { StepFailure, capture } from './process';
import { synthesizeVariants } from './variants';
import { ACCEPTED_FINDINGS } from '../../bench/security-scan';

/** The scanned variants: template role → stack name (variants.ts). */
const SCANNED = { default: 'SecurityScanDefault', hardened: 'SecurityScanHardened' } as const;

/** One check result of checkov's JSON report. */
interface CheckResult {
  readonly check_id: string;
  readonly check_name: string;
  /** `<Type>.<logical id>` */
  readonly resource: string;
  readonly file_path: string;
}

interface Report {
  readonly results: { readonly passed_checks: CheckResult[]; readonly failed_checks: CheckResult[] };
  readonly summary: { readonly checkov_version: string };
}

const resourceType = (result: CheckResult): string => result.resource.split('.')[0];
const describe = (result: CheckResult): string => `${result.check_id} ${result.resource}: ${result.check_name}`;

/** Synthesizes the variants into `tmp` and scans the two of them. */
export function scanTemplates(tmp: string): string {
  ensureVenv();
  const templates = synthesizeVariants(path.join(tmp, 'checkov-variants'));
  const files = Object.values(SCANNED).map((stack) => templates[stack]);

  const args = ['--framework', 'cloudformation', '--skip-download', '--output', 'json', ...files.flatMap((f) => ['--file', f])];
  console.log(`\n$ checkov ${args.join(' ')}`);
  const started = Date.now();
  const result = capture(checkov(), args);
  const seconds = (Date.now() - started) / 1000;
  let report: Report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new StepFailure(`checkov did not report (exit ${result.status}): ${result.stderr.trim() || result.stdout.trim()}`);
  }

  const inFile = (results: CheckResult[], stack: string) => results.filter((r) => path.basename(r.file_path) === path.basename(templates[stack]));
  const figures = Object.fromEntries(Object.entries(SCANNED).map(([role, stack]) => [role, {
    passed: inFile(report.results.passed_checks, stack).length,
    failed: inFile(report.results.failed_checks, stack),
  }])) as Record<keyof typeof SCANNED, { passed: number; failed: CheckResult[] }>;
  if (figures.default.passed + figures.hardened.passed === 0) {
    throw new StepFailure(`checkov ran no check on ${files.join(', ')} (exit ${result.status}): ${result.stderr.trim()}`);
  }

  console.log('\n| Template | Passed | Failed | Accepted |\n|---|---|---|---|');
  for (const [role, stack] of Object.entries(SCANNED)) {
    const { passed, failed } = figures[role as keyof typeof SCANNED];
    const accepted = role === 'default' ? failed.filter((f) => isAccepted(f)).length : 0;
    console.log(`| ${stack} | ${passed} | ${failed.length} | ${accepted} |`);
  }
  console.log(`\ncheckov ${report.summary.checkov_version}: ${seconds.toFixed(1)} s`);

  const problems = [
    ...figures.hardened.failed.map((f) => `hardened template: ${describe(f)}`),
    ...figures.default.failed.filter((f) => !isAccepted(f))
      .map((f) => `default template, not accepted in bench/security-scan.ts: ${describe(f)}`),
    ...ACCEPTED_FINDINGS.filter((a) => !figures.default.failed.some((f) => f.check_id === a.check && resourceType(f) === a.resourceType))
      .map((a) => `accepted ${a.check} (${a.resourceType}) no longer fails on the default template: remove it from `
        + 'bench/security-scan.ts (and docs/reliability.md: npx tsx bench/reliability-report.ts)'),
  ];
  if (problems.length > 0) throw new StepFailure(`checkov: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  return `default ${figures.default.passed} passed, ${figures.default.failed.length} failed (all accepted); `
    + `hardened ${figures.hardened.passed} passed, 0 failed; checkov ${report.summary.checkov_version} in ${seconds.toFixed(1)} s`;
}

function isAccepted(result: CheckResult): boolean {
  return ACCEPTED_FINDINGS.some((a) => a.check === result.check_id && a.resourceType === resourceType(result));
}
