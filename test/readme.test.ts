/**
 * The README as a user meets it: it starts with the user's path; its complete stack file (TypeScript) compiles and
 * synthesizes with no warning and nothing printed; every other TypeScript sample synthesizes without a warning; every
 * warning the constructs can give is listed under "Synth warnings"; the Python stack file builds the same constructs.
 * (jsii-rosetta compiles every sample at build time, test/bindings/python runs the Python ones.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { testApp } from './support/temp';

const ROOT = join(__dirname, '..');
const SRC = join(ROOT, 'src').replace(/\\/g, '/');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const FIXTURE = readFileSync(join(ROOT, 'rosetta', 'default.ts-fixture'), 'utf8');
const HOISTED = /^(?:import\s[\s\S]*?from\s+'[^']+';|declare\s[^\n]*;)\n/gm;

/** The fenced blocks of the README whose info string starts with `info` (`ts`, `ts nofixture`, `python`). */
const blocks = (info: RegExp) => [...README.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].filter((m) => info.test(m[1])).map((m) => m[2]);
const COMPLETE_TS = blocks(/^ts nofixture$/);
const SAMPLES_TS = blocks(/^ts$/);
const COMPLETE_PY = blocks(/^python$/).filter((block) => /^class MyAppStack\(Stack\):/m.test(block));

/** TypeScript as the package's users write it, with the package resolved to src/. */
const withLibrary = (source: string) => source.replace(/from 'cdk-stepfunctions-redshift'/g, `from '${SRC}'`);

/** Runs TypeScript (transpiled to CommonJS, modules from this test's registry); returns its exports. */
function run(source: string): Record<string, any> {
  const { outputText } = ts.transpileModule(withLibrary(source), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const module = { exports: {} as Record<string, any> };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('require', 'module', 'exports', outputText)(require, module, module.exports);
  return module.exports;
}

/** Synthesizes what `build` adds to a new app: the warnings of its stacks, and what was printed meanwhile. */
function synthesize(build: (app: App) => Stack): { stack: Stack; warnings: string[]; printed: string[] } {
  const printed: string[] = [];
  const spies = [jest.spyOn(console, 'warn'), jest.spyOn(console, 'error'), jest.spyOn(process, 'emitWarning')]
    .map((spy) => spy.mockImplementation((...args: unknown[]) => { printed.push(args.map(String).join(' ')); }));
  try {
    const app = testApp();
    const stack = build(app);
    app.synth();
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => `${w.id}: ${w.entry.data}`);
    return { stack, warnings, printed };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
}

test('the README starts with the user\'s path; the contributor\'s quick start follows in its own section', () => {
  const headings = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  expect(headings.slice(0, 2)).toEqual(['Use it in your app', 'Quick start']);
  expect(README).toMatch(/Node\.js 22 or later/);
  expect(README).toContain('`cdk init app --language typescript`');
  expect(COMPLETE_TS).toHaveLength(1);
  expect(COMPLETE_PY).toHaveLength(1);
});

describe('the complete stack file', () => {
  test('compiles against the library', () => {
    const file = join(ROOT, 'test', '.readme-stack.ts');
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      esModuleInterop: true,
      skipLibCheck: true,
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (name) => (name === file ? withLibrary(COMPLETE_TS[0]) : readFile(name));
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file === undefined || diagnostic.file.fileName === file)
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(problems).toEqual([]);
  });

  test('synthesizes as `cdk init` runs it: no warning, nothing printed', () => {
    const { MyAppStack } = run(COMPLETE_TS[0]);
    const { stack, warnings, printed } = synthesize((app) => new MyAppStack(app, 'MyAppStack'));
    expect(warnings).toEqual([]);
    expect(printed).toEqual([]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('Custom::RedshiftSql', 1);
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual(['StateMachineArn', 'TaskerFunctionName']);
  });

  test('the Python file builds the same constructs, under the same ids', () => {
    const ids = (source: string, self: string) => [...source.matchAll(new RegExp(`\\(${self}, ["']([A-Za-z]+)["']`, 'g'))].map((m) => m[1]);
    expect(ids(COMPLETE_TS[0], 'this')).toEqual(['Tasker', 'RegionsTable', 'AddRegion', 'AddRegionFailed', 'AddRegionMachine', 'StateMachineArn', 'TaskerFunctionName']);
    expect(ids(COMPLETE_PY[0], 'self')).toEqual(ids(COMPLETE_TS[0], 'this'));
  });
});

test.each(SAMPLES_TS.map((sample, index) => [index + 1, sample] as const))('TypeScript sample %i synthesizes without a warning', (_, sample) => {
  const declaresTasker = /^declare const tasker: SfnRedshiftTasker;$/m.test(sample);
  const hoisted = (sample.match(HOISTED) ?? []).filter((line) => !line.startsWith('declare')).join('');
  const body = (declaresTasker
    ? 'const tasker = new SfnRedshiftTasker(this, \'DeclaredTasker\', { redshiftTargetProps: { clusterIdentifier: \'my-cluster\', dbName: \'dev\' } });\n'
    : '') + sample.replace(HOISTED, '');
  const { Fixture } = run(`${hoisted}\n${FIXTURE.replace('/// here', () => body)}\nexport { Fixture };\n`);
  const { warnings, printed } = synthesize((app) => new Fixture(app, 'Sample'));
  expect(warnings).toEqual([]);
  expect(printed).toEqual([]);
});

test('every warning the constructs can give is listed under "Synth warnings"', () => {
  const sourceFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []));
  const ids = new Set(sourceFiles(join(ROOT, 'src')).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/\$\{WARNING_PREFIX\}:(\w+)`/g), ...text.matchAll(/warnings\.push\(\{\s*id: '(\w+)'/g)].map((m) => m[1]);
  }));
  expect(ids.size).toBeGreaterThan(10);
  const table = README.split('### Synth warnings')[1].split('\n## ')[0];
  const listed = new Set([...table.matchAll(/`(\w+)`/g)].map((m) => m[1]));
  expect([...ids].filter((id) => !listed.has(id))).toEqual([]);
});
