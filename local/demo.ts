/**
 * `npm run demo`: the example app end to end on this machine — no AWS account, no credentials, nothing but
 * 127.0.0.1.
 *
 * Synthesizes the example app, starts the local stand-ins (DynamoDB, the Redshift Data API on PostgreSQL, the Step
 * Functions callback endpoint, SQS with the event source mapping, the CloudFormation ResponseURL), loads the bundled
 * Lambda handlers as Lambda would, then creates the custom resources, runs every example state machine on its own
 * and the chained machine while it updates custom resources and makes two of them fail, shows the reconciler (a
 * completion event lost on purpose, called back by a sweep; a statement whose task timed out, cancelled by a sweep),
 * deletes the custom resources, prints a trace and a summary of expected against actual outcomes, and exits non-zero on any mismatch.
 * Everything it starts is stopped before it exits.
 *
 * Options: --phases=createStack,machines,chain,updates,failures,reconciler,deleteStack (default: all)
 *          --sequential (one phase after the other; by default machines, chain, updates and failures run together)
 *          --quiet (no trace, only progress and the summary)   --logs (print every line the functions log)
 */
import { bold, DemoOutput, dim, green, red, yellow } from './demo-output';
import { ensureBundles, synthesizeExample, SynthesizedExample } from './example';
import { LocalApp } from './index';
import { ALL_PHASES, Phase, runScenarios } from './scenarios';

interface Args {
  phases: Phase[];
  quiet: boolean;
  logs: boolean;
  sequential: boolean;
}

const PHASE_TITLES: Record<Phase, string> = {
  createStack: 'CloudFormation: create the custom resources',
  machines: 'Step Functions: every example machine on its own (concurrently)',
  chain: 'Step Functions: the chained machine (each machine as a nested startExecution.sync:2)',
  updates: 'CloudFormation: updates',
  failures: 'CloudFormation: failures are reported, never left waiting',
  reconciler: 'Reconciler: a lost event called back, an orphaned statement cancelled (one sweep each)',
  deleteStack: 'CloudFormation: delete the custom resources',
};

function parseArgs(argv: string[]): Args {
  const args: Args = { phases: [...ALL_PHASES], quiet: false, logs: false, sequential: false };
  for (const arg of argv) {
    if (arg === '--quiet' || arg === '--logs' || arg === '--sequential') {
      args[arg.slice(2) as 'quiet' | 'logs' | 'sequential'] = true;
    } else if (arg.startsWith('--phases=')) {
      const phases = arg.slice('--phases='.length).split(',').filter(Boolean);
      const unknown = phases.filter((p) => !ALL_PHASES.includes(p as Phase));
      if (unknown.length) throw new Error(`Unknown phase(s) ${unknown.join(', ')}; choose from ${ALL_PHASES.join(', ')}`);
      args.phases = phases as Phase[];
    } else {
      throw new Error(`Unknown option ${arg}. Options: --phases=${ALL_PHASES.join(',')} --sequential --quiet --logs`);
    }
  }
  return args;
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const args = parseArgs(process.argv.slice(2));
  const out = new DemoOutput(args.quiet);
  console.log(bold('cdk-stepfunctions-redshift — the example app, run locally (no AWS account; 127.0.0.1 only)'));
  if (ensureBundles((line) => out.print(line))) out.print('Lambda bundles built.');
  const example = synthesizeExample();
  try {
    out.print(`Synthesized the example app: ${Object.keys(example.template.template.Resources).length} resources, `
      + `${Object.keys(example.machineLogicalIds).length} state machines, ${example.template.customResourceWaves().flat().length} custom resources.`);
    out.setMachineLabels(example.machineLogicalIds);
    return await runWith(example, args, out);
  } finally {
    example.dispose();
  }
}

async function runWith(example: SynthesizedExample, args: Args, out: DemoOutput): Promise<number> {
  // The example app through the local runner's public API, as a user's app runs; the scenarios create its custom
  // resources themselves (the createStack phase).
  const local = await LocalApp.start({
    app: example.directory,
    stack: example.artifactId,
    deploy: false,
    onTrace: out.onTrace,
    onStatement: out.onStatement,
    onCustomResource: out.onCustomResource,
    onLog: (line, fn) => {
      if (args.logs || /"level":"ERROR"/.test(line)) out.print(dim(`  log ${fn}: ${line.slice(0, 400)}`));
    },
  });
  const cloud = local.cloud;
  out.endedAt = (statementId) => cloud.redshift.statement(statementId)?.history.find((h) => ['FINISHED', 'FAILED', 'ABORTED'].includes(h.status))?.at.getTime();
  out.print(`Started: DynamoDB ${cloud.dynamo.endpoint}, Redshift Data API ${cloud.redshift.endpoint} (${cloud.redshift.engine.kind}), `
    + `Step Functions callbacks ${cloud.callbacks.endpoint}, ResponseURL ${cloud.responses.endpoint}; ${cloud.lambda.all().length} functions.`);
  if (cloud.redshift.engine.note) out.print(yellow(cloud.redshift.engine.note));
  for (const skipped of cloud.skippedFunctions) out.print(yellow(`Not run locally: ${skipped.logicalId} (${skipped.reason})`));
  out.startProgress();
  try {
    const results = await runScenarios({
      cloud,
      example,
      trace: out.trace,
      onPhase: (phase) => out.print(bold(`— ${PHASE_TITLES[phase]} —`)),
      onResult: (result) => out.print(`${result.ok ? green('✔') : red('✘')} ${bold(result.name)}: ${result.actual}`),
    }, args.phases, { sequential: args.sequential });
    const dlq = [...cloud.queues.values()].reduce((n, q) => n + q.deadLetters.length, 0);
    out.stopProgress();
    const statements = cloud.redshift.statements();
    const cancelTimings = cloud.redshift.cancelTimings();
    await local.stop();
    out.summary(results, statements, cancelTimings, dlq);
    return results.length === 0 || results.some((r) => !r.ok) ? 1 : 0;
  } finally {
    out.stopProgress();
    await local.stop();
  }
}

main().then((code) => {
  process.exitCode = code;
  // Everything was closed; if a handle were still open the process would not end: say so instead of hanging.
  setTimeout(() => {
    console.error('Something is still running after the demo closed everything; exiting.');
    process.exit(code || 1);
  }, 10_000).unref();
}, (error: Error) => {
  console.error(red(`The demo could not run: ${error.stack ?? error.message}`));
  process.exit(1);
});
