/**
 * Benchmark: results you can use. The bundled handler (what the construct deploys, in its own Node.js process) writes
 * finished statements' results to the S3 stand-in with `exportResult`, as a completion does: throughput (MB/s,
 * rows/s) and the process's peak memory (`maxRSS`) per result size, next to a process that only answered an invalid
 * request (the handler's floor). Also: the bytes per row of a task's output as plain objects (`rowFormat: OBJECTS`)
 * and as the Data API's typed cells, for a typical row; and the S3 calls per export. `BENCH_FUNCTION_MEMORY_MB` sets the
 * function memory the handler's heap limit follows (default: the tasker's default memory).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HANDLER_BUNDLE, handlerEnvironment, LOCAL_TARGET } from '../local/lambda/handler';
import { startRedshiftDataServer } from '../local/servers/redshift-data';
import { startS3Server } from '../local/servers/s3';
import { SfnRedshiftTasker } from '../src';

/** The memory of the function the construct deploys by default, MB (read from a synthesized tasker). */
function defaultFunctionMemoryMb(): number {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Memory');
  new SfnRedshiftTasker(stack, 'Tasker', { redshiftTargetProps: { clusterIdentifier: 'c', dbName: 'd', dbUser: 'u' } });
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  return Math.max(...functions.map((fn) => Number(fn.Properties.MemorySize)));
}

export interface ExportRun {
  /** The result's size as JSON Lines, MB (10^6 bytes). */
  readonly targetMb: number;
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly rowsPerSecond: number;
  /** Peak resident memory of the handler's process, MB (V8's default heap limit: garbage is collected lazily). */
  readonly peakRssMb: number;
  /**
   * Peak of the memory the process holds alive (V8 heap in use plus Buffers and other external memory, sampled after a
   * full garbage collection every 50 ms), MB: what the export itself keeps, without the garbage and freed pages RSS
   * still counts. Measured in a second run (the collections slow it down).
   */
  readonly peakLiveMb: number;
  readonly s3Calls: Record<string, number>;
  /**
   * Where the export's time went, seconds, as the handler's process saw it: waiting for the Data API's pages (request
   * sent to response read: the stand-in reads the page from its spool and converts it), waiting for S3 (the parts'
   * uploads), and the handler's own work (its process's CPU time: the SDK parsing pages, converting rows, serializing
   * lines, loading the bundle). The export overlaps them, so they add up to more than the wall time.
   */
  readonly time: { readonly dataApi: number; readonly s3: number; readonly handlerCpu: number };
}

export interface ResultsExportResult {
  /** Peak resident memory of a handler process that answered an invalid request, MB. */
  readonly floorRssMb: number;
  /** The V8 old-space limit the handler's process ran with, MB (90% of the function's default memory). */
  readonly heapLimitMb: number;
  /** The tasker function's default memory, MB. */
  readonly functionMemoryMb: number;
  readonly runs: ExportRun[];
  readonly bytesPerRow: { readonly objects: number; readonly typedCells: number; readonly columns: string };
}

const BUCKET = 'bench-results';
/** A row of about 110 bytes as JSON Lines. */
const ROW_SQL = (rows: number) => `select n as id, 'customer-' || n as name, (n * 1.25)::numeric(12,2) as amount, n % 2 = 0 as active,
  timestamp '2024-05-01 12:00:00' + n * interval '1 second' as updated_at, repeat('x', 20) as note from generate_series(1, ${rows}) n`;

const PROBE = `
const started = process.hrtime.bigint();
// Time spent waiting for each endpoint (by port): from a request's creation to the end of its response.
const http = require('node:http');
const waits = {};
const request = http.request;
http.request = function (...args) {
  const req = request.apply(this, args);
  const t0 = process.hrtime.bigint();
  const port = String(req.getHeader('host') ?? '').split(':')[1] ?? '';
  req.on('response', (res) => res.on('end', () => { waits[port] = (waits[port] ?? 0) + Number(process.hrtime.bigint() - t0) / 1e9; }));
  return req;
};
let peakLive = 0;
const sample = () => {
  if (!global.gc) return;
  global.gc();
  const m = process.memoryUsage();
  peakLive = Math.max(peakLive, m.heapUsed + m.external);
};
const sampler = setInterval(sample, 50);
const done = (fields) => {
  clearInterval(sampler);
  sample();
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ ...fields, maxRssKb: process.resourceUsage().maxRSS, peakLiveBytes: peakLive, waits, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
};
require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((result) => {
  done({ result, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
}, (error) => done({ error: error.name + ': ' + error.message }));`;

/** Runs the bundled handler once in a new process (asynchronously: the stand-ins it calls run in this one). */
async function runHandler(
  env: Record<string, string>, event: unknown, heapLimitMb: number, sampleLive = false,
): Promise<{
    result?: any; error?: string; seconds?: number; maxRssKb: number; peakLiveBytes: number; waits: Record<string, number>; cpuSeconds: number;
  }> {
  // The old space a function of the tasker's default memory can give V8 (90% of it): garbage is collected before the
  // process outgrows the function, as it must be on Lambda.
  const flags = [`--max-old-space-size=${heapLimitMb}`, ...sampleLive ? ['--expose-gc'] : []];
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-e', PROBE, HANDLER_BUNDLE, JSON.stringify(event)], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

async function waitFinished(client: RedshiftDataClient, id: string): Promise<void> {
  for (;;) {
    const described = await client.send(new DescribeStatementCommand({ Id: id }));
    if (described.Status === 'FINISHED') return;
    if (described.Status === 'FAILED' || described.Status === 'ABORTED') throw new Error(`${id}: ${described.Error}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function measureResultsExport(sizesMb: readonly number[]): Promise<ResultsExportResult> {
  const functionMemoryMb = Number(process.env.BENCH_FUNCTION_MEMORY_MB ?? defaultFunctionMemoryMb());
  const heapLimitMb = Math.floor(functionMemoryMb * 0.9);
  const [dataApi, s3] = await Promise.all([startRedshiftDataServer({ eventDelayMs: 1 }), startS3Server({ buckets: [BUCKET] })]);
  const env = handlerEnvironment({ dynamodb: 'http://127.0.0.1:9', sfn: 'http://127.0.0.1:9', redshiftData: dataApi.endpoint }, 'unused', {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  });
  // The same identity as the handler's (access key, no session token): the Data API shows results only to it.
  const client = new RedshiftDataClient({
    endpoint: dataApi.endpoint, region: 'eu-west-1', credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: 'local' },
  });
  try {
    const floor = await runHandler(env, {}, heapLimitMb);
    const run = async (sql: string) => {
      const { Id } = await client.send(new ExecuteStatementCommand({
        Sql: sql, ClusterIdentifier: LOCAL_TARGET.clusterIdentifier, Database: LOCAL_TARGET.database, DbUser: LOCAL_TARGET.dbUser,
      }));
      await waitFinished(client, Id!);
      return Id!;
    };

    // Bytes per row: one page of the typical row, read by the handler in both formats.
    const sampleId = await run(ROW_SQL(1000));
    const asObjects = (await runHandler(env, { action: 'getStatementResult', statementId: sampleId, rowFormat: 'OBJECTS' }, heapLimitMb)).result;
    const asCells = (await runHandler(env, { action: 'getStatementResult', statementId: sampleId }, heapLimitMb)).result;
    const perRow = (rows: unknown[]) => rows.reduce((sum: number, row) => sum + Buffer.byteLength(JSON.stringify(row)) + 1, 0) / rows.length;
    const objects = perRow(asObjects.rows);
    const typedCells = perRow(asCells.Records);
    const columns: Array<{ name: string; type: string }> = asObjects.columns;

    const runs: ExportRun[] = [];
    for (const targetMb of sizesMb) {
      const rows = Math.round((targetMb * 1e6) / Math.round(objects));
      const id = await run(ROW_SQL(rows));
      s3.calls.clear();
      const outcome = await runHandler(env, { action: 'exportResult', statementId: id, exportBucket: BUCKET, exportKeyPrefix: 'bench/' }, heapLimitMb);
      if (outcome.error !== undefined) throw new Error(`export of ${targetMb} MB failed: ${outcome.error}`);
      const s3Calls = Object.fromEntries(s3.calls);
      const sampled = await runHandler(env, { action: 'exportResult', statementId: id, exportBucket: BUCKET, exportKeyPrefix: 'sampled/' }, heapLimitMb, true);
      if (sampled.error !== undefined) throw new Error(`export of ${targetMb} MB (memory sampled) failed: ${sampled.error}`);
      const { bytes } = outcome.result;
      const port = (endpoint: string) => new URL(endpoint).port;
      const dataApiWait = outcome.waits[port(dataApi.endpoint)] ?? 0;
      const s3Wait = outcome.waits[port(s3.endpoint)] ?? 0;
      const round = (value: number) => Math.round(value * 100) / 100;
      runs.push({
        targetMb,
        rows: outcome.result.rows,
        bytes,
        seconds: Math.round(outcome.seconds! * 100) / 100,
        mbPerSecond: Math.round((bytes / 1e6 / outcome.seconds!) * 10) / 10,
        rowsPerSecond: Math.round(outcome.result.rows / outcome.seconds!),
        peakRssMb: Math.round(outcome.maxRssKb / 1024),
        peakLiveMb: Math.round(sampled.peakLiveBytes / 1048576),
        s3Calls,
        time: { dataApi: round(dataApiWait), s3: round(s3Wait), handlerCpu: round(outcome.cpuSeconds) },
      });
      s3.buckets.get(BUCKET)!.clear();
    }
    return {
      floorRssMb: Math.round(floor.maxRssKb / 1024),
      heapLimitMb,
      functionMemoryMb,
      runs,
      bytesPerRow: {
        objects: Math.round(objects),
        typedCells: Math.round(typedCells),
        columns: columns.map((column) => `${column.name} ${column.type}`).join(', '),
      },
    };
  } finally {
    client.destroy();
    await Promise.allSettled([dataApi.close(), s3.close()]);
  }
}
