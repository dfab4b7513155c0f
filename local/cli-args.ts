/** The command line of `cdk-stepfunctions-redshift-local`: commands, options, help, exit codes. */

/** Exit codes: CI tells a failed execution from a bad command line and from an app that could not start. */
export const EXIT = {
  /** The execution succeeded (run), the command did what it was asked (deploy, destroy, sql). */
  OK: 0,
  /** The execution ended FAILED, TIMED_OUT or ABORTED; a `sql` statement failed. */
  FAILED: 1,
  /** Bad command line, unknown state machine, unreadable input or mock file. */
  USAGE: 2,
  /** The app could not start: a custom resource failed, a schema or seed file failed, an internal error. */
  START_FAILED: 3,
} as const;

export const HELP = `Usage: cdk-stepfunctions-redshift-local <command> [options]

Runs the state machines and RedshiftSql custom resources of a synthesized CDK app on this machine: PostgreSQL for
Redshift, local stand-ins for the AWS services on 127.0.0.1, the app's Node.js Lambda functions from its assets.
No Docker, no AWS account, no network.

Commands:
  run      Start the app, apply its custom resources, run one state machine, print its outcome; stop.
  deploy   Start the app and apply its custom resources (Create new, Update changed); stop. Use with --data-dir.
  destroy  Delete the custom resources kept in --data-dir (reverse dependency order); stop.
  sql      Run SQL on the database kept in --data-dir:  sql --data-dir .local "select * from orders"

Options:
  --app <dir>             The cloud assembly (output of \`cdk synth\`).              default: cdk.out
  --stack <name>          The stack, when the app has several with state machines.
  --state-machine <name>  (run) Logical id, construct path (Stack/Machine) or construct id of the machine.
  --input <file.json>     (run) The execution input, from a file ('-' reads stdin).   default: {}
  --input-json <json>     (run) The execution input, inline.
  --mocks <file.json>     A Step Functions Local mock configuration (MockConfigFile.json).
  --test-case <name>      (run) The test case of --mocks to answer tasks with.
  --schema <file.sql>     SQL run before the custom resources are created (repeatable; new database only).
  --seed <file.sql>       SQL run after the custom resources are created (repeatable; new database only).
  --data-dir <dir>        Keep the database and the created custom resources here between invocations;
                          without it, everything is temporary and removed when the command ends.
  --database <name>       The database of --schema, --seed and sql.    default: the tasker's database, else dev
  --timeout <seconds>     (run) Stop the execution after this long (ABORTED).        default: 300
  --json                  (run) Print the result as JSON on stdout (progress goes to stderr).
  --quiet                 Only the outcome.
  --logs                  Print every line the Lambda functions log.
  -h, --help              This help.

Exit codes: 0 succeeded, 1 the execution did not succeed (or a sql statement failed), 2 bad usage,
            3 the app could not start (a custom resource, schema or seed file failed).
`;

export type Command = 'run' | 'deploy' | 'destroy' | 'sql' | 'help';

export interface CliArgs {
  command: Command;
  app: string;
  stack?: string;
  stateMachine?: string;
  input?: string;
  inputJson?: string;
  mocks?: string;
  testCase?: string;
  schema: string[];
  seed: string[];
  dataDir?: string;
  database?: string;
  timeoutSeconds: number;
  json: boolean;
  quiet: boolean;
  logs: boolean;
  /** `sql`: the statements. */
  sql: string[];
}

/** A command line error: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const VALUE_OPTIONS: Record<string, keyof CliArgs> = {
  '--app': 'app',
  '--stack': 'stack',
  '--state-machine': 'stateMachine',
  '--input': 'input',
  '--input-json': 'inputJson',
  '--mocks': 'mocks',
  '--test-case': 'testCase',
  '--data-dir': 'dataDir',
  '--database': 'database',
};

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { command: 'help', app: 'cdk.out', schema: [], seed: [], timeoutSeconds: 300, json: false, quiet: false, logs: false, sql: [] };
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') return args;
  if (!['run', 'deploy', 'destroy', 'sql'].includes(command)) throw new UsageError(`Unknown command "${command}"; the commands are run, deploy, destroy, sql`);
  args.command = command as Command;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].startsWith('--') && rest[i].includes('=') ? [rest[i].slice(0, rest[i].indexOf('=')), rest[i].slice(rest[i].indexOf('=') + 1)] : [rest[i], undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '-h' || flag === '--help') return { ...args, command: 'help' };
    if (VALUE_OPTIONS[flag]) {(args as unknown as Record<string, string>)[VALUE_OPTIONS[flag]] = value();} else if (flag === '--schema') {args.schema.push(value());} else if (flag === '--seed') {args.seed.push(value());} else if (flag === '--timeout') {
      const v = value();
      args.timeoutSeconds = Number(v);
      if (!(args.timeoutSeconds > 0)) throw new UsageError(`--timeout ${v}: give a number of seconds above 0`);
    } else if (flag === '--json' || flag === '--quiet' || flag === '--logs') {args[flag.slice(2) as 'json' | 'quiet' | 'logs'] = true;} else if (!flag.startsWith('-') && args.command === 'sql') {args.sql.push(flag);} else {throw new UsageError(`Unknown option ${flag}`);}
  }
  if (args.command === 'run' && !args.stateMachine) throw new UsageError('run needs --state-machine <logical id or construct path>');
  if (args.input && args.inputJson) throw new UsageError('Give --input or --input-json, not both');
  if (args.testCase && !args.mocks) throw new UsageError('--test-case needs --mocks <MockConfigFile.json>');
  if ((args.command === 'sql' || args.command === 'destroy') && !args.dataDir) throw new UsageError(`${args.command} needs --data-dir (the directory run or deploy kept the database in)`);
  if (args.command === 'sql' && !args.sql.length) throw new UsageError('sql needs a statement: sql --data-dir <dir> "select ..."');
  return args;
}
