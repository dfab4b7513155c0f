/**
 * A CDK app run on this machine: `LocalApp.start` loads a stack (cloud assembly directory, `App` or `Stack`),
 * starts what it needs on 127.0.0.1 (see `LocalCloud`), runs schema SQL, applies its custom resources in dependency
 * order as CloudFormation would, runs seed SQL; `run` executes a state machine and returns its outcome, its trace
 * and the SQL that ran; `query` reads the local database; `stop` ends everything and removes the temporary files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppSource, findMachine, LoadedAssembly, loadAssembly, LocalAppError, machineNames, MachineInfo } from './assembly';
import { LocalCloud, LocalCloudOptions } from './cloud';
import { CustomResource } from '../src/contract';
import { CustomResourceOutcome } from './cloudformation/driver';
import { Json } from './cloudformation/template';
import { LocalFunction } from './lambda/function';
import { MockConfig, readMockConfig, runsLocally, TaskMocks, unansweredTask, validateMockConfig } from './mocks';
import { splitSql } from './sql-files';
import { TaskCall, TraceEvent } from './stepfunctions/runner';

export interface LocalAppOptions {
  /** The app: a cloud assembly directory (`cdk.out`), an `App`, or a `Stack`. */
  readonly app: AppSource;
  /** The stack to run (artifact id or stack name). @default - the app's only stack with state machines */
  readonly stack?: string;
  /** SQL files run before the custom resources are created (a new database only). */
  readonly schemaFiles?: readonly string[];
  /** SQL files run after the custom resources are created (a new database only). */
  readonly seedFiles?: readonly string[];
  /** The database `query`, schema and seed SQL use. @default - the tasker's `DATABASE`, else `dev` */
  readonly database?: string;
  /**
   * Keeps the database and the created custom resources in this directory: the next start with the same directory
   * reuses them (Create only what is new, Update what changed). @default - a temporary database, removed on stop
   */
  readonly dataDir?: string;
  /** A Step Functions Local mock configuration (file or object) for the tasks the local run cannot call. */
  readonly mocks?: string | MockConfig;
  /** Create the custom resources on start. @default true */
  readonly deploy?: boolean;
  /** Progress lines (what starts, each custom resource, each state). */
  readonly onProgress?: (line: string) => void;
  /** Every trace event of every execution. */
  readonly onTrace?: (event: TraceEvent) => void;
  /** Every line the functions log. */
  readonly onLog?: (line: string, functionName: string) => void;
  /** Data API statement status changes. */
  readonly onStatement?: LocalCloudOptions['onStatement'];
  /** Custom-resource requests and responses. */
  readonly onCustomResource?: LocalCloudOptions['onCustomResource'];
}

export interface RunOptions {
  /** The test case of the mock configuration to answer tasks with. */
  readonly testCase?: string;
  /** Stops the execution (ABORTED) after this long. @default 300000 */
  readonly timeoutMs?: number;
}

/** A statement the Data API ran during an execution. */
export interface RanStatement {
  readonly id: string;
  readonly sql: string;
  readonly parameters?: ReadonlyArray<{ name: string; value: string }>;
  readonly database: string;
  readonly status: string;
  readonly error?: string;
  readonly rows: number;
}

export interface RunResult {
  readonly executionArn: string;
  readonly machine: MachineInfo;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly durationMs: number;
  /** The execution's trace and that of the executions it started. */
  readonly trace: readonly TraceEvent[];
  /** The statements that ran while it ran, in order. */
  readonly statements: readonly RanStatement[];
  /**
   * The tasks nothing answered (no mock, and the local run cannot call them), each failed with
   * `Local.NoMockedResponse`: listed here too, as a `Catch` of the machine may have caught the error.
   */
  readonly unanswered: readonly string[];
}

interface KeptStack {
  readonly database: string;
  readonly resources: Record<string, { physicalId: string; properties: Record<string, Json> }>;
}

export class LocalApp {
  /** Loads the app and starts everything it needs; nothing is left running if it fails. */
  static async start(options: LocalAppOptions): Promise<LocalApp> {
    const started = performance.now();
    const assembly = loadAssembly(options.app, options.stack);
    let app: LocalApp;
    try {
      app = new LocalApp(options, assembly);
    } catch (error) {
      assembly.dispose();
      throw error;
    }
    try {
      await app.init();
      app.progress(`Ready in ${Math.round(performance.now() - started)} ms.`);
    } catch (error) {
      await app.stop();
      throw error;
    }
    return app;
  }

  /** The running stand-ins (servers, functions, queues) for what the public API does not cover. */
  public cloud!: LocalCloud;
  /** The database `query` uses. */
  public readonly database: string;
  private readonly mocks?: MockConfig;
  private readonly collectors = new Set<(event: TraceEvent) => void>();
  /** Custom resources left out because their function does not run here (logical ids). */
  public readonly notCreated: string[] = [];
  /** The tasks nothing answered, by execution started by `run`. */
  private readonly unanswered = new Map<string, string[]>();
  /** The mocks of each running execution started by `run`. */
  private readonly activeMocks = new Map<string, TaskMocks>();
  private stopping?: Promise<void>;

  private constructor(private readonly options: LocalAppOptions, public readonly assembly: LoadedAssembly) {
    this.mocks = typeof options.mocks === 'string' ? readMockConfig(options.mocks)
      : options.mocks ? validateMockConfig(options.mocks) : undefined;
    this.database = options.database ?? this.taskerDatabase() ?? 'dev';
  }

  /** The stack's state machines. */
  get machines(): readonly MachineInfo[] {
    return this.assembly.machines;
  }

  /** Custom resources: creates the new ones and updates the changed ones, in dependency order. */
  async deploy(): Promise<CustomResourceOutcome[]> {
    const driver = this.cloud.cloudFormation;
    const outcomes: CustomResourceOutcome[] = [];
    for (const wave of driver.customResourceWaves()) {
      const done = await Promise.all(wave.map(async (id) => {
        const properties = driver.templateProperties(id);
        // A resource whose function does not run here would never be answered: left out, and said so.
        if (!this.cloud.lambda.get(String(properties.ServiceToken))) {
          if (!this.notCreated.includes(id)) {
            this.notCreated.push(id);
            this.progress(`Custom resource ${id} (${this.assembly.template.resource(id).Type}) is not created locally: its service token is not a function that runs here`);
          }
          return undefined;
        }
        const deployed = driver.deployedProperties(id);
        if (!deployed) return driver.create(id);
        if (JSON.stringify(deployed) !== JSON.stringify(properties)) return driver.update(id, properties);
        return undefined;
      }));
      for (const outcome of done) {
        if (!outcome) continue;
        outcomes.push(outcome);
        this.progress(`Custom resource ${outcome.logicalId}: ${outcome.requestType} ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''} in ${Math.round(outcome.latencyMs)} ms`);
      }
    }
    this.saveStack();
    return outcomes;
  }

  /** Deletes every custom resource, in reverse dependency order (CloudFormation's stack delete). */
  async destroy(): Promise<CustomResourceOutcome[]> {
    const outcomes = await this.cloud.cloudFormation.deleteStack();
    this.saveStack();
    return outcomes;
  }

  /** Runs a state machine (logical id, construct path, construct id or `StateMachineName`) to its end. */
  async run(stateMachine: string, input: Json = {}, options: RunOptions = {}): Promise<RunResult> {
    // `Machine#TestCase`, as Step Functions Local takes a test case after the machine's ARN.
    const [name, suffix] = stateMachine.split('#');
    const testCase = options.testCase ?? suffix;
    const machine = findMachine(this.machines, name);
    const taskMocks = testCase ? this.testCaseMocks(testCase) : undefined;
    const trace: TraceEvent[] = [];
    const executions = new Set<string>();
    const collect = (event: TraceEvent) => {
      if (!executions.has(event.executionArn)) return;
      trace.push(event);
      if (event.kind === 'TaskInvoked' && event.detail?.startsWith('arn:aws:states:')) executions.add(event.detail);
    };
    this.collectors.add(collect);
    const startedAt = Date.now();
    const started = performance.now();
    let executionArn = '';
    try {
      const execution = this.cloud.stepFunctions.startExecution(this.cloud.stateMachineArn(machine.logicalId), input);
      executionArn = execution.executionArn;
      const result = execution.result;
      executions.add(executionArn);
      this.unanswered.set(executionArn, []);
      if (taskMocks) this.activeMocks.set(executionArn, taskMocks);
      const timeoutMs = options.timeoutMs ?? 300_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const ended = await Promise.race([result, timedOut]);
      clearTimeout(timer);
      const outcome = ended === 'timeout'
        ? { ...(await this.cloud.stepFunctions.stopExecution(executionArn))!, error: 'Local.Timeout', cause: `The execution did not end within ${timeoutMs} ms; it was stopped` }
        : ended;
      const statements = this.cloud.redshift.statements()
        .filter((s) => s.createdAt.getTime() >= startedAt)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map((s): RanStatement => ({
          id: s.id, sql: s.queryString, parameters: s.parameters, database: s.database, status: s.status, error: s.error, rows: s.resultRows,
        }));
      return {
        executionArn,
        machine,
        status: outcome.status,
        output: outcome.output,
        error: outcome.error,
        cause: outcome.cause,
        durationMs: performance.now() - started,
        trace,
        statements,
        unanswered: [...executions].flatMap((arn) => this.unanswered.get(arn) ?? []),
      };
    } finally {
      this.collectors.delete(collect);
      this.activeMocks.delete(executionArn);
      this.unanswered.delete(executionArn);
    }
  }

  /** Runs SQL on the local database; rows as objects of column name → text value (PostgreSQL's text form). */
  async query(sql: string, database = this.database): Promise<Array<Record<string, string | null>>> {
    const result = await this.cloud.redshift.query(database, sql);
    return result.rows.map((row) => Object.fromEntries(result.fields.map((field, i) => [field.name, row[i]])));
  }

  /** Stops everything and removes the temporary files; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.cloud?.close();
      } finally {
        this.assembly.dispose();
      }
    })();
    return this.stopping;
  }


  private async init(): Promise<void> {
    const { options, assembly } = this;
    const kept = this.keptStack();
    this.progress(`Stack ${assembly.stackName}: ${Object.keys(assembly.template.template.Resources).length} resources, `
      + `${assembly.machines.length} state machines, ${assembly.template.customResourceWaves().flat().length} custom resources.`);
    this.cloud = await LocalCloud.start({
      template: assembly.template,
      assets: assembly.assets,
      dataDir: options.dataDir && join(options.dataDir, 'databases'),
      onLog: options.onLog,
      onStatement: options.onStatement,
      onCustomResource: options.onCustomResource,
      onTrace: (event) => {
        for (const collect of this.collectors) collect(event);
        options.onTrace?.(event);
      },
      answerTask: (task) => this.answerTask(task),
    });
    for (const skipped of this.cloud.skippedFunctions) this.progress(`Not run locally: ${skipped.logicalId} (${skipped.reason}); mock the states that call it`);
    for (const [id, resource] of Object.entries(kept?.resources ?? {})) {
      if (assembly.template.template.Resources[id]) this.cloud.cloudFormation.adopt(id, resource.physicalId, resource.properties);
    }
    // The database starts while the custom resources' functions start (a cold start of each overlaps the other).
    const warming = Promise.all([
      this.cloud.redshift.query(this.database, 'select 1'),
      ...options.deploy ?? true ? this.serviceTokenFunctions().map((fn) => fn.prewarm(1)) : [],
    ]).catch(() => undefined);
    if (!kept) await this.runSqlFiles(options.schemaFiles ?? [], 'schema');
    if (options.deploy ?? true) {
      // A failed RedshiftSql resource stops the start; another custom resource's failure (one that calls a service
      // without a local stand-in, say) is reported and the start goes on.
      const failed = (await this.deploy()).filter((o) => o.status !== 'SUCCESS'
        && this.assembly.template.resource(o.logicalId).Type === CustomResource.SQL_RESOURCE_TYPE);
      if (failed.length) {
        throw new LocalAppError(`Custom resources failed: ${failed.map((o) => `${o.logicalId} ${o.requestType} ${o.status}: ${o.reason}`).join('; ')}`);
      }
    }
    if (!kept) await this.runSqlFiles(options.seedFiles ?? [], 'seed');
    await warming;
  }

  private async runSqlFiles(files: readonly string[], kind: string): Promise<void> {
    for (const file of files) {
      if (!existsSync(file)) throw new LocalAppError(`The ${kind} file ${file} does not exist`);
      const statements = splitSql(readFileSync(file, 'utf8'));
      for (const [i, sql] of statements.entries()) {
        try {
          await this.cloud.redshift.query(this.database, sql);
        } catch (error) {
          throw new LocalAppError(`${kind} file ${file}, statement ${i + 1} (${sql.slice(0, 80)}): ${(error as Error).message}`);
        }
      }
      this.progress(`Ran the ${kind} file ${file} (${statements.length} statements) on ${this.database}.`);
    }
  }

  private answerTask(task: TaskCall): Json | undefined {
    try {
      return this.answerOrRun(task);
    } catch (error) {
      if ((error as Error).name === 'Local.NoMockedResponse') {
        const list = this.unanswered.get(task.executionArn) ?? (this.unanswered.size === 1 ? [...this.unanswered.values()][0] : undefined);
        list?.push(`${task.stateName} (${task.resource})`);
      }
      throw error;
    }
  }

  private answerOrRun(task: TaskCall): Json | undefined {
    // A nested execution uses the mocks of the run that started it when only one run is going on.
    const mocks = this.activeMocks.get(task.executionArn) ?? (this.activeMocks.size === 1 ? [...this.activeMocks.values()][0] : undefined);
    const mocked = mocks?.answer(task);
    if (mocked !== undefined) return mocked;
    if (!runsLocally(task.resource)) {
      throw unansweredTask(task, 'the local run does not call (only Node.js Lambda functions and Step Functions executions run locally)', mocks?.testCase);
    }
    const fn = /:lambda:/.test(task.resource) && !task.resource.startsWith('arn:aws:states:') ? task.resource
      : task.resource.includes(':::lambda:') ? String((task.parameters as { FunctionName?: Json } | null)?.FunctionName ?? '') : undefined;
    if (fn !== undefined && !this.cloud.lambda.get(fn)) {
      const skipped = this.cloud.skippedFunctions.find((s) => fn.includes(s.logicalId));
      throw unansweredTask(task, `is a function that does not run locally (${skipped?.reason ?? 'not in the stack'})`, mocks?.testCase);
    }
    return undefined;
  }

  private testCaseMocks(testCase: string): TaskMocks {
    if (!this.mocks) throw new LocalAppError(`Test case "${testCase}" asked for, but no mock configuration was given (options.mocks / --mocks)`);
    return new TaskMocks(this.mocks, testCase, (machineName) => {
      const machine = this.machines.find((m) => m.logicalId === machineName);
      return machine ? machineNames(machine) : [machineName];
    });
  }

  /** The functions that answer the stack's custom resources. */
  private serviceTokenFunctions(): LocalFunction[] {
    const driver = this.cloud.cloudFormation;
    const tokens = new Set(driver.customResourceWaves().flat().map((id) => String(driver.templateProperties(id).ServiceToken)));
    return [...tokens].map((token) => this.cloud.lambda.get(token)).filter((fn): fn is LocalFunction => !!fn);
  }

  private taskerDatabase(): string | undefined {
    const { template } = this.assembly;
    for (const id of template.ofType('AWS::Lambda::Function')) {
      const properties = template.resource(id).Properties as { Environment?: { Variables?: Record<string, Json> } } | undefined;
      const variables = properties?.Environment?.Variables;
      if (typeof variables?.DATABASE === 'string') return variables.DATABASE;
    }
    return undefined;
  }

  private keptStack(): KeptStack | undefined {
    const file = this.options.dataDir && join(this.options.dataDir, 'stack.json');
    return file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as KeptStack : undefined;
  }

  private saveStack(): void {
    if (!this.options.dataDir) return;
    mkdirSync(this.options.dataDir, { recursive: true });
    const driver = this.cloud.cloudFormation;
    const resources = Object.fromEntries([...driver.physicalIds]
      .map(([id, physicalId]) => [id, { physicalId, properties: driver.deployedProperties(id)! }]));
    const kept: KeptStack = { database: this.database, resources };
    writeFileSync(join(this.options.dataDir, 'stack.json'), JSON.stringify(kept, null, 2));
  }

  private progress(line: string): void {
    this.options.onProgress?.(line);
  }
}
