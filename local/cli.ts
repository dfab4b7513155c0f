#!/usr/bin/env node
/**
 * `cdk-stepfunctions-redshift-local`: run a synthesized CDK app's state machine on this machine and print its
 * outcome, trace and SQL; query the database a `--data-dir` keeps. See `cli-args.ts` for the command line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliArgs, EXIT, HELP, parseArgs } from './cli-args';
import type { Json } from './cloudformation/template';
import { formatResult, formatTrace } from './format';
import { LocalApp, LocalAppOptions } from './local-app';
import { PgliteEngines } from './redshift-data/pglite-engine';
import { applyRedshiftRewrites } from './redshift-data/sql-text';
import { splitSql } from './sql-files';

/** Runs the command line; resolves with the exit code. Output goes to `out` (results) and `err` (progress). */
export async function main(
  argv: readonly string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error,
): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    err(`${(error as Error).message}\nRun with --help for the commands and options.`);
    return EXIT.USAGE;
  }
  if (args.command === 'help') {
    out(HELP);
    return EXIT.OK;
  }
  if (args.command === 'sql') return sql(args, out, err);
  let input: Json = {};
  try {
    if (args.inputJson !== undefined) input = JSON.parse(args.inputJson) as Json;
    if (args.input !== undefined) input = JSON.parse(readFileSync(args.input === '-' ? 0 : args.input, 'utf8')) as Json;
  } catch (error) {
    err(`Cannot read the input ${args.input ?? '(--input-json)'}: ${(error as Error).message}`);
    return EXIT.USAGE;
  }
  const progress = args.quiet ? () => undefined : err;
  const options: LocalAppOptions = {
    app: args.app,
    stack: args.stack,
    mocks: args.mocks,
    schemaFiles: args.schema,
    seedFiles: args.seed,
    dataDir: args.dataDir,
    database: args.database,
    deploy: args.command !== 'destroy',
    onProgress: progress,
    onLog: args.logs ? (line, fn) => progress(`  log ${fn}: ${line}`) : undefined,
  };
  let app: LocalApp;
  try {
    app = await LocalApp.start({
      ...options,
      // Live trace of top-level executions while the machine runs.
      onTrace: args.quiet || args.json ? undefined : (event) => {
        for (const line of formatTrace([event])) progress(`  ${line.replace(/^\+\s*0 ms /, '')}`);
      },
    });
  } catch (error) {
    const usage = ['LocalAppError', 'MockConfigError'].includes((error as Error).name) && !/Custom resources failed|file .* statement/.test((error as Error).message);
    err((error as Error).message);
    return usage ? EXIT.USAGE : EXIT.START_FAILED;
  }
  const stop = () => {
    void app.stop().finally(() => process.exit(EXIT.FAILED));
  };
  process.once('SIGINT', stop);
  try {
    if (args.command === 'deploy') return EXIT.OK;
    if (args.command === 'destroy') {
      const failed = (await app.destroy()).filter((o) => o.status !== 'SUCCESS');
      for (const o of failed) err(`${o.logicalId}: Delete ${o.status} (${o.reason})`);
      return failed.length ? EXIT.FAILED : EXIT.OK;
    }
    let result;
    try {
      progress(`Running ${args.stateMachine}...`);
      result = await app.run(args.stateMachine!, input, { testCase: args.testCase, timeoutMs: args.timeoutSeconds * 1000 });
    } catch (error) {
      err((error as Error).message);
      return EXIT.USAGE;
    }
    if (args.json) out(JSON.stringify(result, null, 2));
    else for (const line of formatResult(result)) out(line);
    return result.status === 'SUCCEEDED' ? EXIT.OK : EXIT.FAILED;
  } finally {
    process.off('SIGINT', stop);
    await app.stop();
  }
}

/** `sql`: statements on the database a data directory keeps (no app is started). */
async function sql(args: CliArgs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const kept = join(args.dataDir!, 'stack.json');
  if (!existsSync(kept)) {
    err(`${args.dataDir} holds no local database: run \`run\` or \`deploy\` with --data-dir ${args.dataDir} first`);
    return EXIT.USAGE;
  }
  const database = args.database ?? (JSON.parse(readFileSync(kept, 'utf8')) as { database: string }).database;
  const engine = new PgliteEngines('', join(args.dataDir!, 'databases'));
  try {
    for (const statement of args.sql.flatMap(splitSql)) {
      try {
        const result = await engine.query(database, applyRedshiftRewrites(statement));
        for (const line of table(result.fields.map((f) => f.name), result.rows)) out(line);
        out(result.fields.length ? `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})` : `${result.command} ${result.affectedRows}`);
      } catch (error) {
        err(`${statement.slice(0, 100)}: ${(error as Error).message}`);
        return EXIT.FAILED;
      }
    }
    return EXIT.OK;
  } finally {
    await engine.close();
  }
}

/** Rows as an aligned text table. */
function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | null>>): string[] {
  if (!columns.length) return [];
  const cells = rows.map((row) => row.map((v) => (v === null ? 'NULL' : v)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i])).join(' | ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Everything was stopped; a handle still open would keep the process alive: say so instead of hanging.
    setTimeout(() => {
      console.error('Something is still running after everything was stopped; exiting.');
      process.exit(code || EXIT.FAILED);
    }, 10_000).unref();
  }, (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(EXIT.START_FAILED);
  });
}
