/**
 * The example app end to end on the local stand-ins — the scenarios `npm run demo` runs: the synthesized template,
 * the bundled handlers, the real state machine definitions. Each phase checks every scenario's expected outcome.
 */
import { LocalCloud } from '../../local/cloud';
import { ensureBundles, synthesizeExample, SynthesizedExample } from '../../local/example';
import { Phase, runScenarios, ScenarioResult } from '../../local/scenarios';
import { TraceEvent } from '../../local/stepfunctions/runner';

// The slow statements of the examples take 10–20 s each, and the chain runs every machine once more.
jest.setTimeout(10 * 60 * 1000);

let example: SynthesizedExample;
let cloud: LocalCloud;
const trace: TraceEvent[] = [];

beforeAll(async () => {
  ensureBundles();
  example = synthesizeExample();
  cloud = await LocalCloud.start({ template: example.template, assets: example.assets, onTrace: (e) => trace.push(e) });
});

afterAll(async () => {
  await cloud?.close();
  example?.dispose();
});

async function run(phase: Phase): Promise<ScenarioResult[]> {
  const results = await runScenarios({ cloud, example, trace }, [phase]);
  const mismatches = results.filter((r) => !r.ok).map((r) => `${r.name}\n  expected: ${r.expected}\n  actual:   ${r.actual}`);
  expect(mismatches).toEqual([]);
  return results;
}

test('every function of the template runs locally', () => {
  expect(cloud.skippedFunctions).toEqual([]);
  expect(cloud.lambda.all().map((fn) => fn.name).sort()).toEqual(example.template.ofType('AWS::Lambda::Function').sort());
});

test('custom resources are created (each object verified in the database)', async () => {
  const results = await run('createStack');
  expect(results.map((r) => r.name).sort()).toEqual([
    'rscfncreateduser (Create)', 'rsdailysales (Create)', 'rsgroups (Create)', 'rsslowprocedure (Create)', 'rstable (Create)',
    'rsuser2 (Create)', 'rsview (Create)', 'rswrites (Create)',
  ]);
});

test('every example machine reaches its expected outcome, run concurrently', async () => {
  const results = await run('machines');
  expect(results).toHaveLength(10);
  // Exactly one callback per statement that was started with a task token.
  const accepted = cloud.callbacks.calls.filter((c) => c.answer === 'accepted' && c.operation !== 'SendTaskHeartbeat');
  expect(new Set(accepted.map((c) => c.taskToken)).size).toBe(accepted.length);
});

test('the chained machine runs every machine as a nested execution', async () => {
  await run('chain');
});

test('custom resources are updated', async () => {
  await run('updates');
});

test('a failing SQL and invalid properties end in CloudFormation FAILED with a readable reason', async () => {
  await run('failures');
});

test('the reconciler: a lost completion event is called back by a sweep, an orphaned statement is cancelled by one', async () => {
  const results = await run('reconciler');
  expect(results.map((r) => r.name)).toEqual(['a lost completion event', 'an orphaned statement']);
});

test('custom resources are deleted, every object dropped; nothing went to the dead-letter queue', async () => {
  await run('deleteStack');
  expect([...cloud.queues.values()].flatMap((q) => q.deadLetters)).toEqual([]);
  expect(cloud.responses.requests.every((r) => r.problems.length === 0 || r.status !== 200)).toBe(true);
});
