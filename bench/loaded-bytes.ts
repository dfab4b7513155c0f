/**
 * Which part of the handler bundle a cold start evaluates. esbuild wraps every module of the bundle in a function
 * (`__commonJS` / `__esm`) that runs when the module is first required; the handler's own modules are not wrapped
 * and run at load. The bytes a path loads are: the bundle's runtime helpers and unwrapped modules, plus the bytes
 * (`bytesInOutput` of esbuild's metafile, in the shipped minified bundle) of every wrapped module whose wrapper ran.
 * Which wrappers ran is read from V8's coverage of an unminified twin of the bundle (same options, same module
 * graph; in it each wrapper is a method named after the module's path), run through the same path.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { bundleHandler } from '../projenrc/bundle-handler';

/** The shipped bundle's module sizes and its unminified twin, for coverage runs. */
export interface BundleMap {
  /** The twin: run it with `NODE_V8_COVERAGE` to see which modules a path evaluates. */
  readonly twin: string;
  /** Bytes of the shipped bundle (minified). */
  readonly bytes: number;
  /** Bytes in the shipped bundle, by module (metafile input path). */
  readonly moduleBytes: ReadonlyMap<string, number>;
  /** Modules evaluated at load whatever the path (not wrapped). */
  readonly unwrapped: ReadonlySet<string>;
  /** Bytes of the bundle outside any module: esbuild's runtime helpers. */
  readonly runtimeBytes: number;
}

export interface LoadedBytes {
  /** Bytes of the shipped bundle this path evaluates (see the file's comment). */
  readonly bytes: number;
  /** Modules of the bundle it evaluates. */
  readonly modules: number;
  /** Of those, the SDK v3 and Powertools packages (`@aws-sdk/*`, `@aws-lambda-powertools/*`). */
  readonly packages: string[];
}

function outputOf(metafile: Metafile): Metafile['outputs'][string] {
  const entry = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.js'));
  if (!entry) throw new Error('esbuild metafile without a .js output');
  return entry[1];
}

/** Builds the minified bundle with a metafile and the unminified twin into `dir`. */
export async function mapBundle(dir: string): Promise<BundleMap> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const minified = join(dir, 'minified', 'index.js');
  const twin = join(dir, 'twin', 'index.js');
  const output = outputOf((await bundleHandler(minified, { metafile: true }))!);
  const twinOutput = outputOf((await bundleHandler(twin, { metafile: true, minify: false }))!);
  const twinText = readFileSync(twin, 'utf8');
  const moduleBytes = new Map(Object.entries(output.inputs).map(([path, input]) => [path, input.bytesInOutput]));
  const unwrapped = new Set(Object.keys(twinOutput.inputs).filter((path) => !twinText.includes(`${JSON.stringify(path)}(`)));
  let inModules = 0;
  for (const bytes of moduleBytes.values()) inModules += bytes;
  const bytes = statSync(minified).size;
  return { twin, bytes, moduleBytes, unwrapped, runtimeBytes: bytes - inModules };
}

/** The modules whose wrappers ran in a coverage directory's runs of the twin. */
function evaluatedModules(coverageDir: string, twin: string): Set<string> {
  const url = pathToFileURL(twin).href;
  const ran = new Set<string>();
  for (const file of readdirSync(coverageDir).filter((name) => name.endsWith('.json'))) {
    const { result } = JSON.parse(readFileSync(join(coverageDir, file), 'utf8')) as {
      result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
    };
    for (const script of result.filter((s) => s.url === url)) {
      for (const fn of script.functions) if (fn.ranges[0]?.count > 0) ran.add(fn.functionName);
    }
  }
  return ran;
}

/** What one path loaded, from the coverage its twin run wrote into `coverageDir`. */
export function loadedBytes(map: BundleMap, coverageDir: string): LoadedBytes {
  const ran = evaluatedModules(coverageDir, map.twin);
  let bytes = map.runtimeBytes;
  const packages = new Set<string>();
  let modules = 0;
  for (const [path, size] of map.moduleBytes) {
    if (!map.unwrapped.has(path) && !ran.has(path)) continue;
    bytes += size;
    modules++;
    const pkg = /node_modules\/(@aws-sdk\/[^/]+|@aws-lambda-powertools\/[^/]+)\//.exec(path)?.[1];
    if (pkg) packages.add(pkg);
  }
  if (modules === map.unwrapped.size) throw new Error(`no module wrapper of ${map.twin} ran: was the coverage written?`);
  return { bytes, modules, packages: [...packages].sort() };
}
