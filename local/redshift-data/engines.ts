/** Starts the SQL engine the Data API stand-in runs on (see `engine.ts` for the choice). */
import { EngineKind, SqlEngine } from './engine';
import { PgliteEngines } from './pglite-engine';
import { PostgresEngine } from './postgres-engine';
import { findPostgres } from './postgres-server';

export type EngineChoice = EngineKind | 'auto';

/** The engine asked for, or (`auto`) PostgreSQL when its binaries run here, PGlite otherwise. */
export async function startSqlEngine(choice: EngineChoice = engineFromEnvironment(), dataDir?: string): Promise<SqlEngine> {
  // Databases kept in a directory between runs: PGlite's data directories.
  if (dataDir) return new PgliteEngines('', dataDir);
  if (choice === 'pglite') return new PgliteEngines();
  try {
    return await PostgresEngine.start(findPostgres());
  } catch (error) {
    if (choice === 'postgres') throw error;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return new PgliteEngines(`PostgreSQL not available (${reason}); PGlite runs the statements of a database one at a time`);
  }
}

function engineFromEnvironment(): EngineChoice {
  const value = process.env.LOCAL_REDSHIFT_ENGINE;
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'postgres' || value === 'pglite') return value;
  throw new Error(`LOCAL_REDSHIFT_ENGINE=${value}: use postgres, pglite or auto`);
}
