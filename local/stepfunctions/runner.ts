/**
 * Runs Amazon States Language definitions locally with `aws-local-stepfunctions`, with the service integrations the
 * examples use implemented against the local stand-ins:
 *
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken`: `$$.Task.Token` becomes a fresh token (`States.UUID()`)
 *   registered with the local callback endpoint; the function is invoked with the payload (a function error fails
 *   the task), then the task waits for `SendTaskSuccess`/`SendTaskFailure` on that token. When the task's
 *   `TimeoutSeconds` elapses (or the execution ends) the token is closed, so a late callback gets `TaskTimedOut`.
 * - `arn:aws:states:::lambda:invoke` (the `{ Payload, StatusCode, ... }` result) and a function ARN as resource
 *   (the function's own result).
 * - `arn:aws:states:::states:startExecution`, `.sync` and `.sync:2`: a nested local execution.
 * - Distributed Map states (`ItemReader` from the S3 stand-in, `ItemBatcher`, tolerated failures, `ResultWriter`): the
 *   runner runs them, each item or batch a child execution (see `distributed-map.ts`).
 *
 * Function errors fail the task with the function's `errorType` as error and the error payload (JSON) as cause, like
 * Step Functions; `Retry`, `Catch`, `Parallel`, `Map`, `Wait`, `Choice` and `TimeoutSeconds` are the interpreter's.
 * Task states in JSONata: the runner evaluates their `Arguments` and `Output` (see `jsonata.ts`; `$states.context.Task.Token`
 * is a fresh token per attempt, as `$$.Task.Token` is in JSONPath).
 */
import { randomUUID } from 'node:crypto';
import type { StateMachineDefinition } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { asl } from './asl';
import {
  EventLog, forEachTask, Json, JsonObject, reportedStatement, rewriteTaskTokens, TaskState, truncate, valueAt,
} from './definition';
import { describeExecution, describeNested, ExecutionDescription } from './describe';
import { DISTRIBUTED_MAP_RESOURCE, rewriteDistributedMaps, RewrittenMap, runDistributedMap } from './distributed-map';
import { evaluateTemplate, isJsonataState } from './jsonata';
import { TraceBuffer, TraceEvent } from './trace';
import { ExecutionOutcome, LocalStepFunctionsProps, TaskError } from './types';
import { TaskClosedError } from '../servers/sfn-callbacks';


export type { ExecutionDescription } from './describe';
export type { TraceEvent } from './trace';
export { TaskError } from './types';
export type { ExecutionOutcome, LocalStepFunctionsProps, TaskCall } from './types';

/** Definitions the interpreter has validated once. */
const VALIDATED = new WeakSet<object>();
/** The errors of the interpreter's own timeouts of a task. */
const TIMEOUTS = ['States.Timeout', 'States.HeartbeatTimeout'];
/** How early the interpreter may report a timeout before its due time (timers are not exact). */
const TIMEOUT_SLACK_MS = 250;

interface RegisteredMachine {
  readonly name: string;
  readonly arn: string;
  /** The definition as registered: what is validated. */
  readonly original: StateMachineDefinition;
  /** The definition that runs: Distributed Maps are Task states the runner answers (`maps`). */
  readonly definition: StateMachineDefinition;
  readonly maps: Map<string, RewrittenMap>;
  /** The machine's `QueryLanguage` (JSONata Task states are evaluated by the runner, see `jsonata.ts`). */
  readonly queryLanguage?: string;
  /** Paths (in Parameters) whose value was `$$.Task.Token`, per Task state name. */
  readonly tokenPaths: Map<string, string[][]>;
}

interface ExecutionScope {
  readonly arn: string;
  readonly depth: number;
  /** Tokens of tasks still waiting: the state that waits and when the token was handed out. */
  /** Task tokens handed out and not answered yet: their state, since when, and when the state's timeout falls due. */
  readonly openTokens: Map<string, { state: string; since: number; dueAt: number }>;
  readonly timers: Set<NodeJS.Timeout>;
  /** Child executions of its Distributed Maps still running. */
  readonly children: Set<string>;
}


export class LocalStepFunctions {
  /** Outcomes of every execution, by ARN. */
  public readonly executions = new Map<string, ExecutionOutcome>();
  private readonly started = new Map<string, { machine: RegisteredMachine; name: string; input: Json; startDate: Date; abort(): void }>();
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly region: string;
  private readonly accountId: string;
  private readonly traceBuffer = new TraceBuffer((event) => this.props.onTrace?.(event));

  constructor(private readonly props: LocalStepFunctionsProps) {
    this.region = props.region ?? 'eu-west-1';
    this.accountId = props.accountId ?? '123456789012';
  }

  /** Registers a state machine; returns its ARN. */
  register(name: string, definition: StateMachineDefinition | string, validated = false): string {
    // A JSON copy, not structuredClone: the interpreter only recognises plain objects of its own realm (jest runs
    // modules in a separate one).
    const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
    const original = JSON.parse(text) as StateMachineDefinition;
    const parsed = JSON.parse(text) as StateMachineDefinition;
    const queryLanguage = (parsed as { QueryLanguage?: string }).QueryLanguage;
    const maps = new Map<string, RewrittenMap>();
    for (const map of rewriteDistributedMaps(parsed as never, name)) {
      maps.set(map.stateName, map);
      // The processor runs as a machine of its own; it was validated with its parent.
      this.register(map.childName, map.processor as never, true);
    }
    const tokenPaths = new Map<string, string[][]>();
    rewriteTaskTokens(parsed, tokenPaths);
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    if (validated) VALIDATED.add(original);
    this.machines.set(arn, { name, arn, original, definition: parsed, maps, tokenPaths, queryLanguage });
    return arn;
  }

  /** A registered machine's ARN by name. */
  arnOf(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  /** Starts an execution; `result` settles when it ends (it never rejects). */
  startExecution(machineArnOrName: string, input: Json = {}, options: { name?: string; depth?: number; parentExecutionArn?: string } = {}): {
    executionArn: string; result: Promise<ExecutionOutcome>;
  } {
    const machine = this.machines.get(machineArnOrName) ?? this.machines.get(this.arnOf(machineArnOrName));
    if (!machine) throw new TaskError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machineArnOrName}'`);
    const name = options.name ?? randomUUID();
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    const scope: ExecutionScope = { arn: executionArn, depth: options.depth ?? 0, openTokens: new Map(), timers: new Set(), children: new Set() };
    const startDate = new Date();
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    forEachTask(machine.definition, (stateName, state) => {
      handlers[stateName] = (taskInput) => this.runTask(scope, machine, stateName, state, taskInput);
    });
    // The definition is validated as registered, on its first execution only (a few hundred milliseconds each time
    // otherwise); what runs is the rewritten one.
    if (!VALIDATED.has(machine.original)) {
      void new asl.StateMachine(machine.original, { validationOptions: { checkArn: false } });
      VALIDATED.add(machine.original);
    }
    const stateMachine = new asl.StateMachine(machine.definition, { validationOptions: { noValidate: true } });
    const execution = stateMachine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${this.accountId}:role/local` },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    this.started.set(executionArn, { machine, name, input, startDate, abort: () => execution.abort() });
    const forwarded = this.forwardEvents(scope, execution.eventLogs).catch(() => undefined);
    const result = execution.result.then(
      (output): ExecutionOutcome => ({ executionArn, status: 'SUCCEEDED', output: output as Json, startDate, stopDate: new Date() }),
      (error: Error): ExecutionOutcome => {
        const cause = (error as { cause?: unknown }).cause as Error | undefined;
        if (error.name === 'ExecutionTimeoutError') {
          return { executionArn, status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution timed out', startDate, stopDate: new Date() };
        }
        if (error.name === 'ExecutionAbortedError') return { executionArn, status: 'ABORTED', startDate, stopDate: new Date() };
        return { executionArn, status: 'FAILED', error: cause?.name ?? error.name, cause: cause?.message ?? error.message, startDate, stopDate: new Date() };
      },
    ).then(async (ended) => {
      const outcome: ExecutionOutcome = { ...ended, parentExecutionArn: options.parentExecutionArn };
      // Every event of the execution is traced before its outcome is known to the caller.
      await forwarded;
      this.endScope(scope);
      this.executions.set(executionArn, outcome);
      const kind = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', TIMED_OUT: 'ExecutionTimedOut', ABORTED: 'ExecutionAborted' } as const;
      this.trace(scope, kind[outcome.status], undefined, outcome.error ? `${outcome.error}: ${truncate(outcome.cause ?? '', 300)}` : undefined);
      this.traceBuffer.flush();
      return outcome;
    });
    return { executionArn, result };
  }

  /** An execution this runner started, as `DescribeExecution` answers (undefined for an unknown ARN). */
  describeExecution(executionArn: string): ExecutionDescription | undefined {
    const started = this.started.get(executionArn);
    return started && describeExecution(executionArn, { ...started, stateMachineArn: started.machine.arn }, this.executions.get(executionArn));
  }

  /**
   * Stops a running execution (`StopExecution`): it ends ABORTED and its waiting task tokens are closed, so their
   * callbacks and heartbeats get `TaskTimedOut`. Resolves with its outcome; undefined for an unknown ARN.
   */
  async stopExecution(executionArn: string): Promise<ExecutionOutcome | undefined> {
    const started = this.started.get(executionArn);
    if (!started) return undefined;
    if (!this.executions.has(executionArn)) started.abort();
    for (let i = 0; i < 500 && !this.executions.has(executionArn); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.executions.get(executionArn);
  }

  private async forwardEvents(scope: ExecutionScope, events: AsyncGenerator<unknown>): Promise<void> {
    for await (const raw of events) {
      const event = raw as EventLog;
      const state = event.state?.name;
      const at = event.timestamp;
      switch (event.type) {
        case 'StateEntered':
        case 'StateExited':
          this.trace(scope, event.type, state, undefined, undefined, at, true);
          break;
        case 'StateFailed':
          this.trace(scope, event.type, state, `${event.Error}`, undefined, at, true);
          // The interpreter's own timeout: the task's token is no longer valid (a retry hands out a new one). Any other
          // failure came from the task's answer, which consumed its token.
          if (state && TIMEOUTS.includes(String(event.Error))) this.closeTokensOf(scope, state, at, `the task failed (${event.Error})`);
          break;
        case 'StateRetried':
          this.trace(scope, event.type, state, `attempt ${event.retry?.attempt}`, undefined, at, true);
          break;
        case 'StateCaught':
          this.trace(scope, event.type, state, `→ ${event.catch?.catcher.Next}`, undefined, at, true);
          break;
        case 'ExecutionStarted':
          this.trace(scope, 'ExecutionStarted', undefined, undefined, undefined, at, true);
          break;
        default:
          break;
      }
    }
  }

  private trace(
    scope: ExecutionScope, kind: TraceEvent['kind'], state?: string, detail?: string, latencyMs?: number, at = Date.now(),
    fromInterpreter = false, statementId?: string, described?: boolean,
  ): void {
    if (!this.props.onTrace) return;
    const event: TraceEvent = {
      executionArn: scope.arn, depth: scope.depth, at: new Date(at), kind, state, detail, latencyMs, statementId, described,
    };
    this.traceBuffer.push(event, fromInterpreter);
  }

  private endScope(scope: ExecutionScope): void {
    for (const timer of scope.timers) clearTimeout(timer);
    scope.timers.clear();
    for (const token of scope.openTokens.keys()) this.props.callbacks.closeToken(token, 'executionEnded');
    scope.openTokens.clear();
    for (const child of scope.children) void this.stopExecution(child);
  }

  private async runTask(scope: ExecutionScope, machine: RegisteredMachine, stateName: string, state: TaskState, input: Json): Promise<Json> {
    const map = state.Resource === DISTRIBUTED_MAP_RESOURCE ? machine.maps.get(stateName) : undefined;
    if (map) return this.runMap(scope, machine, map, state, input);
    if (!isJsonataState(state, machine.queryLanguage)) {
      const token = (machine.tokenPaths.get(stateName) ?? []).map((path) => valueAt(input, path)).find((v): v is string => typeof v === 'string');
      return this.callResource(scope, stateName, state, (input ?? {}) as JsonObject, token);
    }
    // JSONata: the interpreter passed the state input through; Arguments and Output are evaluated here.
    const token = state.Resource.endsWith('.waitForTaskToken') ? randomUUID() : undefined;
    const context = { ...this.contextOf(scope, machine, stateName), ...token !== undefined ? { Task: { Token: token } } : {} };
    const args = state.Arguments === undefined ? input : await evaluateTemplate(state.Arguments, { input, context });
    const result = await this.callResource(scope, stateName, state, (args ?? {}) as JsonObject, token);
    if (state.Output === undefined) return result;
    return (await evaluateTemplate(state.Output, { input, context, result })) ?? null;
  }

  /**
   * A Distributed Map: JSONPath passes `{ input, context }` (its Parameters); in JSONata the runner builds the context
   * and evaluates `Output`. A mocked response (`answerTask`, with the effective input as parameters) answers it too.
   */
  private async runMap(scope: ExecutionScope, machine: RegisteredMachine, map: RewrittenMap, state: TaskState, raw: Json): Promise<Json> {
    const jsonata = isJsonataState(state, machine.queryLanguage);
    const { input, context } = jsonata
      ? { input: raw, context: this.contextOf(scope, machine, map.stateName) } : raw as { input: Json; context: JsonObject };
    const mocked = await this.mockedAnswer(scope, map.stateName, state.Resource, (input ?? {}) as JsonObject);
    const result = mocked !== undefined ? mocked : await runDistributedMap({ map, machineName: machine.name, input, context, jsonata }, {
      region: this.region,
      accountId: this.accountId,
      s3Endpoint: this.props.s3Endpoint,
      startChild: (childInput) => {
        const child = this.startExecution(map.childName, childInput, { depth: scope.depth + 1, parentExecutionArn: scope.arn });
        scope.children.add(child.executionArn);
        void child.result.then(() => scope.children.delete(child.executionArn));
        return child;
      },
      stopChild: (arn) => void this.stopExecution(arn),
      ended: () => this.executions.has(scope.arn),
      // A map run's start is ranked with the interpreter's events: it comes before its children's on ties.
      trace: (kind, detail) => this.trace(scope, kind, map.stateName, detail, undefined, Date.now(), kind === 'MapRunStarted'),
    });
    if (!jsonata || state.Output === undefined) return result;
    return (await evaluateTemplate(state.Output, { input, context: this.contextOf(scope, machine, map.stateName), result })) ?? null;
  }

  private contextOf(scope: ExecutionScope, machine: RegisteredMachine, stateName: string): JsonObject {
    return {
      Execution: { Id: scope.arn, Name: scope.arn.split(':').pop()! },
      StateMachine: { Id: machine.arn, Name: machine.name },
      State: { Name: stateName },
    };
  }

  /** `answerTask`'s answer for a Task state, if it gives one. */
  private async mockedAnswer(scope: ExecutionScope, stateName: string, resource: string, params: JsonObject): Promise<Json | undefined> {
    if (!this.props.answerTask) return undefined;
    const machineName = scope.arn.split(':')[6];
    const answer = await this.props.answerTask({ machineName, executionArn: scope.arn, stateName, resource, parameters: params });
    if (answer !== undefined) this.trace(scope, 'TaskInvoked', stateName, 'mocked response');
    return answer;
  }

  private async callResource(
    scope: ExecutionScope, stateName: string, state: TaskState, params: JsonObject, token: string | undefined,
  ): Promise<Json> {
    const resource = state.Resource;
    const answer = await this.mockedAnswer(scope, stateName, resource, params);
    if (answer !== undefined) return answer;
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      return this.invokeAndWait(scope, stateName, state, params, token);
    }
    if (resource === 'arn:aws:states:::lambda:invoke') {
      const result = await this.invoke(scope, stateName, String(params.FunctionName), params.Payload ?? {});
      return {
        ExecutedVersion: '$LATEST',
        Payload: result,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: randomUUID() },
        StatusCode: 200,
      };
    }
    if (resource.startsWith('arn:aws:states:::states:startExecution')) {
      return this.startNested(scope, stateName, resource, params);
    }
    if (/^arn:aws[a-z-]*:lambda:/.test(resource)) return this.invoke(scope, stateName, resource, params);
    throw new TaskError('States.Runtime', `The local runner does not support the resource ${resource} (state ${stateName}).`);
  }

  private async invoke(scope: ExecutionScope, stateName: string, functionName: string, payload: Json): Promise<Json> {
    const fn = this.props.lambda.get(functionName);
    if (!fn) throw new TaskError('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
    this.trace(scope, 'TaskInvoked', stateName, fn.name);
    const result = await fn.invoke(payload);
    if (result.functionError) {
      const error = result.payload as { errorType?: string };
      throw new TaskError(error.errorType ?? 'Lambda.Unknown', JSON.stringify(result.payload));
    }
    return (result.payload ?? null) as Json;
  }

  private async invokeAndWait(
    scope: ExecutionScope, stateName: string, state: TaskState, params: JsonObject, token: string | undefined,
  ): Promise<Json> {
    if (!token) throw new TaskError('States.Runtime', `State ${stateName} waits for a task token but passes none ($$.Task.Token) to the function.`);
    const { callbacks } = this.props;
    callbacks.registerToken(token);
    const timeoutMs = (state.TimeoutSeconds ?? 60) * 1000;
    scope.openTokens.set(token, { state: stateName, since: Date.now(), dueAt: Date.now() + timeoutMs });
    const waitStarted = performance.now();
    const callback = callbacks.waitForCallback(token);
    // The interpreter fails the task with States.Timeout at TimeoutSeconds (the token is closed when it reports
    // that, see forwardEvents); this timer is the backstop.
    const timer = setTimeout(() => {
      scope.timers.delete(timer);
      this.closeTaskToken(scope, token, `no callback within ${timeoutMs / 1000} s`);
    }, timeoutMs + 50);
    scope.timers.add(timer);
    try {
      await this.invoke(scope, stateName, String(params.FunctionName), params.Payload ?? {});
    } catch (error) {
      clearTimeout(timer);
      scope.timers.delete(timer);
      scope.openTokens.delete(token);
      callbacks.closeToken(token, 'executionEnded');
      throw error;
    }
    this.trace(scope, 'TaskWaiting', stateName);
    try {
      const answer = await callback;
      const latencyMs = performance.now() - waitStarted;
      const { statementId, described } = reportedStatement(answer.kind === 'success' ? answer.output : answer.cause);
      if (answer.kind === 'success') {
        this.trace(scope, 'TaskCallback', stateName, 'SendTaskSuccess', latencyMs, Date.now(), false, statementId, described);
        return JSON.parse(answer.output) as Json;
      }
      this.trace(scope, 'TaskCallback', stateName, `SendTaskFailure ${answer.error}`, latencyMs, Date.now(), false, statementId, described);
      throw new TaskError(answer.error, answer.cause);
    } catch (error) {
      if (error instanceof TaskClosedError) throw new TaskError('States.Timeout', 'The task timed out waiting for its callback');
      throw error;
    } finally {
      clearTimeout(timer);
      scope.timers.delete(timer);
      scope.openTokens.delete(token);
    }
  }

  /** Closes a waiting task's token (a late callback then gets TaskTimedOut). */
  private closeTaskToken(scope: ExecutionScope, token: string, detail: string): void {
    const open = scope.openTokens.get(token);
    if (!open) return;
    scope.openTokens.delete(token);
    this.props.callbacks.closeToken(token, 'timedOut');
    this.trace(scope, 'TaskTimedOut', open.state, detail);
  }

  /**
   * The interpreter timed a state out: its waiting tokens whose timeout fell due by then are no longer valid. Only
   * those: the iterations of a `Map` (or branches of a `Parallel`) share the state's name, and the others still wait.
   */
  private closeTokensOf(scope: ExecutionScope, state: string, at: number, reason: string): void {
    for (const [token, open] of scope.openTokens) {
      if (open.state === state && open.since < at && open.dueAt <= at + TIMEOUT_SLACK_MS) this.closeTaskToken(scope, token, reason);
    }
  }

  private async startNested(scope: ExecutionScope, stateName: string, resource: string, params: JsonObject): Promise<Json> {
    const machineArn = String(params.StateMachineArn);
    let input: Json = params.Input ?? {};
    if (typeof input === 'string') input = JSON.parse(input) as Json;
    const nested = this.startExecution(machineArn, input, {
      name: typeof params.Name === 'string' ? params.Name : undefined, depth: scope.depth + 1, parentExecutionArn: scope.arn,
    });
    this.trace(scope, 'TaskInvoked', stateName, nested.executionArn);
    if (!resource.includes('.sync')) {
      void nested.result;
      return { ExecutionArn: nested.executionArn, StartDate: new Date().toISOString() };
    }
    const outcome = await nested.result;
    const described = describeNested(outcome, machineArn, input, resource.endsWith('.sync:2'));
    if (outcome.status !== 'SUCCEEDED') {
      throw new TaskError('States.TaskFailed', JSON.stringify(described));
    }
    return described;
  }
}

