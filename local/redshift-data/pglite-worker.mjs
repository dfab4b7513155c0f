// Runs one embedded PostgreSQL (PGlite, WASM) for the local Redshift Data API stand-in, off the main event loop.
//
// Plain ESM on purpose: the worker runs in a bare Node.js worker thread (no TypeScript loader, no jest transform),
// which is also what lets PGlite's ESM build load inside jest's CommonJS runtime. Terminating this worker is how a
// running statement is cancelled: PostgreSQL in WASM has no signal to interrupt it. The data directory is on disk,
// so a new worker on the same directory recovers the committed state (the aborted transaction rolls back).
//
// Messages in:  { type: 'run', id, sqls: string[], params: string[] | undefined, batch: boolean }
//               { type: 'init-template', shims: string }   (creates the database files, runs the shims, exits)
// Messages out: { type: 'ready', ms } | { type: 'started', id, index } | { type: 'sub', id, index, result?, error? }
//               { type: 'done', id } | { type: 'fatal', error }
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

// Keep PostgreSQL's text form of every value: the main thread maps it to Data API fields by type OID.
// (PGlite merges per-query parsers into its defaults, so every built-in type OID is listed; built-ins are < 16384.)
const TEXT_PARSERS = {};
for (let oid = 0; oid < 16384; oid++) TEXT_PARSERS[oid] = (text) => text;

function describeError(error) {
  return {
    message: String(error?.message ?? error),
    code: error?.code,
    severity: error?.severity,
    detail: error?.detail,
    hint: error?.hint,
    position: error?.position,
    where: error?.where,
  };
}

async function main() {
  const started = Date.now();
  const pg = new PGlite({ dataDir: workerData.dataDir });
  await pg.waitReady;

  if (workerData.mode === 'init-template') {
    await pg.exec(workerData.shims);
    await pg.close();
    parentPort.postMessage({ type: 'ready', ms: Date.now() - started });
    return;
  }

  parentPort.postMessage({ type: 'ready', ms: Date.now() - started });

  // One statement at a time, like one Redshift session per Data API statement.
  const queue = [];
  let busy = false;
  parentPort.on('message', (message) => {
    queue.push(message);
    if (!busy) void drain();
  });

  async function drain() {
    busy = true;
    while (queue.length) {
      const message = queue.shift();
      if (message.type === 'run') await run(message);
    }
    busy = false;
  }

  async function run({ id, sqls, params, batch }) {
    const options = { rowMode: 'array', parsers: TEXT_PARSERS };
    let failed = false;
    try {
      if (batch) await pg.query('BEGIN');
      for (let index = 0; index < sqls.length; index++) {
        if (failed) break;
        parentPort.postMessage({ type: 'started', id, index, at: Date.now() });
        const t0 = process.hrtime.bigint();
        try {
          const results = await pg.query(sqls[index], params?.[index] ?? [], options);
          const ns = Number(process.hrtime.bigint() - t0);
          parentPort.postMessage({
            type: 'sub', id, index, ns, at: Date.now(),
            result: {
              command: results.command ?? '',
              fields: results.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
              rows: results.rows,
              affectedRows: results.affectedRows ?? 0,
            },
          });
        } catch (error) {
          failed = true;
          const ns = Number(process.hrtime.bigint() - t0);
          parentPort.postMessage({ type: 'sub', id, index, ns, at: Date.now(), error: describeError(error) });
        }
      }
      if (batch) await pg.query(failed ? 'ROLLBACK' : 'COMMIT');
    } catch (error) {
      // BEGIN/COMMIT itself failed: report it on the last statement.
      parentPort.postMessage({ type: 'sub', id, index: sqls.length - 1, ns: 0, at: Date.now(), error: describeError(error) });
    }
    // A fresh session for the next statement: no temporary tables, settings or prepared state carried over.
    try {
      await pg.exec('DISCARD ALL');
    } catch {
      // Nothing to discard after a failed COMMIT.
    }
    parentPort.postMessage({ type: 'done', id, at: Date.now() });
  }
}

main().catch((error) => {
  parentPort.postMessage({ type: 'fatal', error: describeError(error) });
});
