/**
 * cfn-lint over every template: the construct's variants, the example app, and what the language test apps
 * synthesized. Errors fail; warnings fail unless listed in ACCEPTED with the reason (also in docs/bindings.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cfnLint, ensureVenv } from './languages';
import { ROOT, StepFailure, capture, run } from './process';
import { synthesizeVariants } from './variants';

/** A warning that is expected, where and why. */
interface Accepted {
  readonly rule: string;
  readonly message: RegExp;
  readonly reason: string;
}

export const ACCEPTED: readonly Accepted[] = [{
  rule: 'W3005',
  // `'<Role>' dependency already enforced by a 'GetAtt' at 'Resources/<Function or StateMachine>/Properties/Role[Arn]'`
  message: /^'[A-Za-z0-9]+' dependency already enforced by a 'GetAtt' at 'Resources\/[A-Za-z0-9]+\/Properties\/(Role|RoleArn)'$/,
  reason: 'aws-cdk-lib\'s lambda.Function and sfn.StateMachine add a DependsOn on the role they also reference with '
    + 'Fn::GetAtt: redundant, harmless, and not ours to remove',
}];

/** One finding of cfn-lint's JSON output. */
interface Finding {
  readonly Filename: string;
  readonly Level: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
}

/** Counts of one template. */
interface TemplateResult {
  readonly name: string;
  errors: number;
  warnings: number;
  accepted: number;
}

/** Synthesizes the example app (entry src/integ.default.ts) as `npx cdk synth` does (cdk.json), into `outdir`. */
function synthesizeExample(outdir: string): string {
  run(path.join(ROOT, 'node_modules', '.bin', 'cdk'), [
    'synth', '--app', `${path.join(ROOT, 'node_modules', '.bin', 'tsx')} src/integ.default.ts`, '--no-notices', '--no-version-reporting',
    '--no-lookups', '--quiet', '-o', outdir,
  ], { env: { CDK_DISABLE_CLI_TELEMETRY: 'true' } });
  return path.join(outdir, 'integ-test-stack.template.json');
}

/** Template files of a cloud assembly, by stack name. */
function assemblyTemplates(outdir: string, label: string): Record<string, string> {
  if (!fs.existsSync(outdir)) return {};
  return Object.fromEntries(fs.readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => [`${label}: ${f.replace(/\.template\.json$/, '')}`, path.join(outdir, f)]));
}

/** Lints every template; `languageOut` lists the cloud assemblies the language test apps wrote. */
export function lintTemplates(tmp: string, languageOut: Record<string, string>): string {
  ensureVenv();
  const templates: Record<string, string> = {};
  for (const [name, file] of Object.entries(synthesizeVariants(path.join(tmp, 'variants')))) templates[`variant: ${name}`] = file;
  templates['example app: integ-test-stack'] = synthesizeExample(path.join(tmp, 'example'));
  for (const [label, outdir] of Object.entries(languageOut)) Object.assign(templates, assemblyTemplates(outdir, label));

  console.log(`\n$ cfn-lint --format json <${Object.keys(templates).length} templates>`);
  const result = capture(cfnLint(), ['--format', 'json', ...Object.values(templates)]);
  let findings: Finding[];
  try {
    findings = JSON.parse(result.stdout);
  } catch {
    throw new StepFailure(`cfn-lint did not report (exit ${result.status}): ${result.stderr.trim() || result.stdout.trim()}`);
  }

  const byFile = new Map<string, TemplateResult>(Object.entries(templates)
    .map(([name, file]) => [path.resolve(file), { name, errors: 0, warnings: 0, accepted: 0 }]));
  const unexpected: string[] = [];
  for (const finding of findings) {
    const entry = byFile.get(path.resolve(finding.Filename));
    if (!entry) throw new StepFailure(`cfn-lint reported a file it was not given: ${finding.Filename}`);
    const line = `${entry.name}: ${finding.Rule.Id} ${finding.Message}`;
    if (finding.Level === 'Error') {
      entry.errors++;
      unexpected.push(line);
    } else if (finding.Level === 'Warning') {
      if (ACCEPTED.some((a) => a.rule === finding.Rule.Id && a.message.test(finding.Message))) {
        entry.accepted++;
      } else {
        entry.warnings++;
        unexpected.push(line);
      }
    }
  }

  const rows = [...byFile.values()];
  console.log('\n| Template | Errors | Warnings | Accepted warnings |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.errors} | ${r.warnings} | ${r.accepted} |`);
  for (const a of ACCEPTED) console.log(`\nAccepted ${a.rule}: ${a.reason}.`);
  if (unexpected.length > 0) {
    throw new StepFailure(`cfn-lint: ${unexpected.length} error(s) or unaccepted warning(s):\n  ${unexpected.join('\n  ')}`);
  }
  const accepted = rows.reduce((sum, r) => sum + r.accepted, 0);
  return `${rows.length} templates, 0 errors, 0 warnings beyond ${accepted} accepted ${ACCEPTED.map((a) => a.rule).join(', ')}`;
}
