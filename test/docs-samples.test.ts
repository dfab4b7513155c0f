/**
 * The TypeScript samples of the integration guides compile against the library, the way jsii-rosetta compiles the
 * README's (`npx projen rosetta:extract`): each sample in place of the marker of `rosetta/default.ts-fixture`, its
 * `import` and `declare` statements hoisted above the fixture, `cdk-stepfunctions-redshift` resolved to `src/`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as ts from 'typescript';
import { RedshiftSqlTask, RedshiftStatementTask, SfnRedshiftTasker, StatementAction } from '../src';
import { testApp } from './support/temp';

const ROOT = join(__dirname, '..');
const GUIDES = ['docs/stepfunction_redshift_integration.md', 'docs/cloudformation_redshift_integration.md'];
const FIXTURE = readFileSync(join(ROOT, 'rosetta', 'default.ts-fixture'), 'utf8');
const HOISTED = /^(?:import\s[\s\S]*?from\s+'[^']+';|declare\s[^\n]*;)\n/gm;

/** The fenced TypeScript blocks of a Markdown file. */
function samples(path: string): string[] {
  const markdown = readFileSync(join(ROOT, path), 'utf8');
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** A sample as rosetta compiles it: hoisted statements, then the fixture with the sample in place of its marker. */
function inFixture(sample: string): string {
  const hoisted = (sample.match(HOISTED) ?? []).join('')
    .replace(/from 'cdk-stepfunctions-redshift'/g, `from '${join(ROOT, 'src').replace(/\\/g, '/')}'`);
  const body = sample.replace(HOISTED, '');
  return `${hoisted}\n${FIXTURE.replace('/// here', () => body)}`;
}

test.each(GUIDES)('the TypeScript samples of %s compile', (guide) => {
  const blocks = samples(guide);
  expect(blocks.length).toBeGreaterThan(0);
  const files = new Map(blocks.map((block, index) => [join(ROOT, 'test', `.sample-${index}.ts`), inFixture(block)]));
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    esModuleInterop: true,
    skipLibCheck: true,
    noUnusedLocals: false,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file === undefined || files.has(diagnostic.file.fileName))
    .map((diagnostic) => {
      const where = diagnostic.file ? `sample ${[...files.keys()].indexOf(diagnostic.file.fileName) + 1}` : 'program';
      return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
  expect(problems).toEqual([]);
});

test('the Step Functions guide\'s state in JSON is what RedshiftSqlTask and RedshiftStatementTask render', () => {
  const markdown = readFileSync(join(ROOT, GUIDES[0]), 'utf8');
  const machine = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1])).find((json) => json.States !== undefined);
  const functionArn = machine.States.SqlStep.Parameters.FunctionName as string;

  const stack = new Stack(testApp(), 'Guide');
  const tasker = new SfnRedshiftTasker(stack, 'Tasker', {
    redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' },
    starterExistingLambdaObj: lambda.Function.fromFunctionArn(stack, 'Existing', functionArn),
  });
  const sqlStep = RedshiftSqlTask.jsonPath(stack, 'SqlStep', {
    tasker, sql: machine.States.SqlStep.Parameters.Payload.sqlStatement, taskTimeout: sfn.Timeout.duration(Duration.hours(1)), resultPath: '$.sqlResult',
  });
  const cancel = RedshiftStatementTask.jsonPath(stack, 'CancelSql', { tasker, action: StatementAction.CANCEL, resultPath: '$.cancel' });
  const rendered = stack.resolve(sqlStep.toStateJson());
  const { Catch: _catch, Next: _next, ...guideStep } = machine.States.SqlStep;
  expect({ ...rendered, Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', End: undefined })
    .toEqual({ ...guideStep, End: undefined });
  expect(stack.resolve(cancel.toStateJson())).toEqual(expect.objectContaining({
    Resource: machine.States.CancelSql.Resource, Parameters: machine.States.CancelSql.Parameters,
  }));
});
