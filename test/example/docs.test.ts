/**
 * The documentation matches the code: the guide's example state uses the invocation API's field and error names and
 * the example machines' retries; the README's nine steps match the picture's numbers; relative links resolve.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { definitionOf, logicalId, synthesizeExample } from './support';
import { SingleSuccessMachine } from '../../example/machines';
import { ErrorName, Field } from '../../src/contract';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const README = read('README.md');
const SFN_GUIDE = 'docs/stepfunction_redshift_integration.md';
const CFN_GUIDE = 'docs/cloudformation_redshift_integration.md';

/** The fenced code blocks of a Markdown text in a language. */
const codeBlocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]);

test('the Step Functions guide\'s state: valid JSON, the API\'s names, the example machines\' retries, TimeoutSeconds', () => {
  const [machine] = codeBlocks(read(SFN_GUIDE), 'json').map((block) => JSON.parse(block)).filter((json) => json.States !== undefined);
  const step = machine.States.SqlStep;
  expect(step.Parameters.Payload).toEqual({
    [`${Field.TASK_TOKEN}.$`]: '$$.Task.Token', [`${Field.EXECUTION_ARN}.$`]: '$$.Execution.Id', [Field.SQL_STATEMENT]: expect.any(String),
  });
  expect(step.HeartbeatSeconds).toBeUndefined();
  expect(step.TimeoutSeconds).toBeGreaterThan(0);
  expect(step.Catch.map((c: any) => c.ErrorEquals[0])).toEqual(['States.Timeout', ErrorName.STATEMENT_FAILED, 'States.ALL']);
  for (const c of step.Catch) expect(machine.States[c.Next]).toBeDefined();

  const { integ, resources } = synthesizeExample();
  const example = definitionOf(resources, logicalId(integ.stack, integ.stateMachines[SingleSuccessMachine.ID]));
  expect(step.Retry).toEqual(example.States.SimpleSuccessfullRsTaskProcedure.Retry);
  expect(machine.States.CancelSql.Parameters).toEqual({ 'action': 'cancelStatement', 'statementId': 'LATEST', 'executionArn.$': '$$.Execution.Id' });
});

test('the README keeps the quick start\'s commands and describes the flow in nine numbered steps, like the picture', () => {
  // The contributor's quick start: its own section, which the marker ends (after the user's path).
  const section = README.split('\n## Quick start\n')[1].split('<!-- quick-start:end -->')[0];
  expect(section).not.toMatch(/\n## /);
  const quickStart = codeBlocks(section, 'bash')[0];
  // A newcomer's two commands: the main job (the local end-to-end run) and the tests, which CI runs.
  expect(quickStart.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm ci')).map((line) => line.split('#')[0].trim()))
    .toEqual(['npm run demo', 'npx projen build']);
  expect(read('.ci/run')).toMatch(/^npx projen build$/m);
  expect(README).toMatch(/^npx cdk synth +# offline/m);
  const howItWorks = README.split('## How it works')[1].split('\n## ')[0];
  expect([...howItWorks.matchAll(/^(\d)\. /gm)].map((m) => Number(m[1]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(howItWorks).toContain('(images/aws-step-function-redshift-integration.png)');
  const dot = read('images/aws-step-function-redshift-integration.dot');
  const numbers = new Set([...dot.matchAll(/label="(\d) /g)].map((m) => Number(m[1])));
  expect([...numbers].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(existsSync(join(root, 'images/aws-step-function-redshift-integration.png'))).toBe(true);
});

test.each(['README.md', SFN_GUIDE, CFN_GUIDE, 'example/README.md'])('the relative links of %s resolve', (path) => {
  const links = [...read(path).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((link) => !/^[a-z]+:/.test(link));
  expect(links.length).toBeGreaterThan(0);
  for (const link of links) expect({ link, exists: existsSync(resolve(dirname(join(root, path)), link)) }).toEqual({ link, exists: true });
});
