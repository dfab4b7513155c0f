/**
 * Mocked responses for the Task states the local run cannot call, in the format of AWS Step Functions Local's mock
 * configuration file (`MockConfigFile.json`), so existing files work unchanged:
 *
 * ```json
 * { "StateMachines": { "<machine>": { "TestCases": { "<case>": { "<state>": "<mocked response name>" } } } },
 *   "MockedResponses": { "<name>": { "0": { "Return": {...} }, "1-2": { "Throw": { "Error": "...", "Cause": "..." } } } } }
 * ```
 *
 * `"0"` answers the state's first call in an execution, `"1-2"` its second and third; a call past the last key
 * gets the last response again. The machine is named by its logical id, its `StateMachineName`, or its construct
 * path in the CDK app.
 */
import { readFileSync } from 'node:fs';
import { Json } from './cloudformation/template';
import { DISTRIBUTED_MAP_RESOURCE } from './stepfunctions/distributed-map';
import { TaskCall, TaskError } from './stepfunctions/runner';

/** One answer of a mocked response: a result, or an error the task fails with. */
export type MockAnswer = { readonly Return: Json } | { readonly Throw: { readonly Error: string; readonly Cause?: string } };

/** The mock configuration file of AWS Step Functions Local. */
export interface MockConfig {
  readonly StateMachines?: Record<string, { readonly TestCases?: Record<string, Record<string, string>> }>;
  readonly MockedResponses?: Record<string, Record<string, MockAnswer>>;
}

/** Thrown for a mock configuration that cannot be used: the message names the entry and the fix. */
export class MockConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MockConfigError';
  }
}

/** Reads a mock configuration file (JSON). */
export function readMockConfig(file: string): MockConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MockConfigError(`Cannot read the mock configuration ${file}: ${(error as Error).message}`);
  }
  return validateMockConfig(parsed, file);
}

/** Checks the shape of a mock configuration; every error names the entry at fault. */
export function validateMockConfig(config: unknown, source = 'the mock configuration'): MockConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new MockConfigError(`${source} must be a JSON object with StateMachines and MockedResponses`);
  const { StateMachines: machines = {}, MockedResponses: responses = {} } = config as MockConfig;
  for (const [name, response] of Object.entries(responses)) {
    if (!response || typeof response !== 'object') throw new MockConfigError(`${source}: MockedResponses.${name} must be an object of "0", "1-2", ... keys`);
    for (const [key, answer] of Object.entries(response)) {
      if (!/^\d+(-\d+)?$/.test(key)) throw new MockConfigError(`${source}: MockedResponses.${name} has the key "${key}"; use an invocation number ("0") or a range ("1-2")`);
      const kinds = answer && typeof answer === 'object' ? Object.keys(answer) : [];
      if (kinds.length !== 1 || !['Return', 'Throw'].includes(kinds[0])) {
        throw new MockConfigError(`${source}: MockedResponses.${name}."${key}" must have exactly one of Return or Throw`);
      }
      if ('Throw' in answer && typeof answer.Throw?.Error !== 'string') {
        throw new MockConfigError(`${source}: MockedResponses.${name}."${key}".Throw needs an Error (a string)`);
      }
    }
  }
  for (const [machine, { TestCases: cases = {} } = {}] of Object.entries(machines)) {
    for (const [testCase, states] of Object.entries(cases)) {
      for (const [state, responseName] of Object.entries(states)) {
        if (!responses[responseName]) {
          throw new MockConfigError(`${source}: StateMachines.${machine}.TestCases.${testCase}.${state} names the mocked response "${responseName}", which MockedResponses does not define`);
        }
      }
    }
  }
  return config as MockConfig;
}

/** The answer for the `call`-th call (0-based) of a mocked response: its key, or the last one's. */
export function mockAnswer(response: Record<string, MockAnswer>, call: number): MockAnswer {
  let last: { to: number; answer: MockAnswer } | undefined;
  for (const [key, answer] of Object.entries(response)) {
    const [from, to = from] = key.split('-').map(Number);
    if (call >= from && call <= to) return answer;
    if (!last || to > last.to) last = { to, answer };
  }
  if (!last) throw new MockConfigError('A mocked response has no answers');
  return last.answer;
}

/** Picks the mocked responses of one test case for the Task states of one execution. */
export class TaskMocks {
  private readonly calls = new Map<string, number>();

  /**
   * @param config the mock configuration
   * @param testCase the test case to use (`StateMachines.<machine>.TestCases.<testCase>`)
   * @param machineKeys the names the executed machine may have in `StateMachines`, by machine name in its ARN
   */
  constructor(
    private readonly config: MockConfig, public readonly testCase: string, private readonly machineKeys: (machineName: string) => string[],
  ) {
    const known = Object.values(config.StateMachines ?? {}).some((m) => m.TestCases?.[testCase]);
    if (!known) {
      const cases = Object.entries(config.StateMachines ?? {}).flatMap(([m, { TestCases = {} }]) => Object.keys(TestCases).map((c) => `${m}#${c}`));
      throw new MockConfigError(`No state machine of the mock configuration has the test case "${testCase}"; it defines ${cases.join(', ') || 'none'}`);
    }
  }

  /** The mocked response name for a state of a machine in this test case, if any. */
  responseFor(machineName: string, stateName: string): string | undefined {
    for (const key of this.machineKeys(machineName)) {
      const name = this.config.StateMachines?.[key]?.TestCases?.[this.testCase]?.[stateName];
      if (name) return name;
    }
    return undefined;
  }

  /** The answer for a task call, or undefined when the test case does not mock its state. */
  answer(task: TaskCall): Json | undefined {
    const name = this.responseFor(task.machineName, task.stateName);
    if (!name) return undefined;
    const key = `${task.executionArn}\u0000${task.stateName}`;
    const call = this.calls.get(key) ?? 0;
    this.calls.set(key, call + 1);
    const answer = mockAnswer(this.config.MockedResponses![name], call);
    if ('Throw' in answer) throw new TaskError(answer.Throw.Error, answer.Throw.Cause ?? '');
    return answer.Return;
  }
}

/** The service integrations the local run calls for real (Node.js Lambda functions, nested executions, Distributed Maps). */
export function runsLocally(resource: string): boolean {
  return /^arn:aws[a-z-]*:lambda:/.test(resource) || resource === DISTRIBUTED_MAP_RESOURCE
    || resource === 'arn:aws:states:::lambda:invoke' || resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken'
    || resource.startsWith('arn:aws:states:::states:startExecution');
}

/** The error for a task nothing answers: names the state, the resource and the mock to add. */
export function unansweredTask(task: TaskCall, why: string, testCase?: string): TaskError {
  const where = testCase ? `StateMachines.<machine>.TestCases.${testCase}.${task.stateName}` : `StateMachines.<machine>.TestCases.<case>.${task.stateName}`;
  return new TaskError('Local.NoMockedResponse', `State "${task.stateName}" of ${task.machineName} calls ${task.resource}, which ${why}. `
    + `Give it a mocked response: ${where} → a MockedResponses entry ({"0": {"Return": ...}} or {"0": {"Throw": {"Error": ..., "Cause": ...}}}).`);
}
