/**
 * Bundles the tasker's Lambda handler (`lambda/index.ts` → `assets/handler/index.js`, CommonJS, minified, SDK v3
 * included) for the Lambda runtime. Run by the projen task `bundle:lambda` (`tsx projenrc/bundle-handler.ts`); the
 * cold-start benchmark builds an unminified twin with the same options to see which modules each path evaluates.
 *
 * Cold start: every module of the bundle is wrapped by esbuild and evaluated when first required, except the
 * handler's own modules, which run at load. Their imports of the SDK v3 clients go through small stand-in modules
 * (`lazySdkClients`) whose exports are getters: a client package, and everything it pulls in (its commands, the
 * shared Smithy runtime, the credential chain), is evaluated the first time the invocation uses something of it. The
 * start path so never evaluates the Step Functions client, the completion path never the Redshift Data API client,
 * and a function that only validates requests none of them.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BuildOptions, Metafile, Plugin, build } from 'esbuild';

const ROOT = join(__dirname, '..');

/** The handler's Node.js target: the major version of the Lambda runtime the construct deploys (nodejs24.x). */
export const LAMBDA_NODE_TARGET = 'node24';

/**
 * SDK packages the handler's own modules import lazily: what they import of them is evaluated on first use. (Not
 * Powertools: its packages have ESM and CommonJS builds, and a `require` would bundle the CommonJS build of its
 * commons next to the ESM one the logger uses.)
 */
export const LAZY_SDK_PACKAGES = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-redshift-data',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-sfn',
  '@aws-sdk/lib-dynamodb',
] as const;

const NAMESPACE = 'lazy-sdk';

/**
 * An esbuild plugin: an import of a `LAZY_SDK_PACKAGES` package from the handler's sources (not from inside
 * node_modules) resolves to a CommonJS stand-in that defines the names the file imports (read from it at build time)
 * as getters requiring the real package on first access. esbuild's ESM-to-CommonJS interop reads imported names at
 * their use sites (`import_client_sfn.SendTaskSuccessCommand`), so `new Command(...)`, `instanceof` and
 * `Client.from(...)` behave exactly as with a plain import; only the moment of evaluation moves.
 */
export function lazySdkClients(packages: readonly string[] = LAZY_SDK_PACKAGES): Plugin {
  const filter = new RegExp(`^(${packages.map((p) => p.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')).join('|')})$`);
  return {
    name: 'lazy-sdk-clients',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => {
        if (args.namespace === NAMESPACE || args.importer.includes('node_modules')) return undefined;
        return { path: `${args.path}#${relative(ROOT, args.importer)}`, namespace: NAMESPACE, pluginData: { pkg: args.path, importer: args.importer } };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const { pkg, importer } = args.pluginData as { pkg: string; importer: string };
        const names = importedNames(readFileSync(importer, 'utf8'), pkg, importer);
        const contents = [
          'let real;',
          `const load = () => real ??= require(${JSON.stringify(pkg)});`,
          'Object.defineProperty(exports, \'__esModule\', { value: true });',
          `for (const name of ${JSON.stringify(names)}) {`,
          '  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });',
          '}',
        ].join('\n');
        return { contents, loader: 'js', resolveDir: ROOT };
      });
    },
  };
}

/**
 * The names `source` imports from `pkg` (`import { A, B as C, type D } from 'pkg'`); any other import form of a lazy
 * package (default, namespace, side effect, `require`, `export ... from`) fails the build rather than load it wrong.
 */
export function importedNames(source: string, pkg: string, file: string): string[] {
  const quoted = `['"]${pkg.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')}['"]`;
  const names = new Set<string>();
  let forms = 0;
  for (const match of source.matchAll(new RegExp(`import\\s+(type\\s+)?\\{([^}]*)\\}\\s*from\\s*${quoted}`, 'g'))) {
    forms++;
    if (match[1]) continue;
    for (const part of match[2].split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim();
      if (name && !part.trim().startsWith('type ')) names.add(name);
    }
  }
  const all = [...source.matchAll(new RegExp(quoted, 'g'))].length;
  if (all !== forms) throw new Error(`${file}: import ${pkg} only as \`import { Name } from '${pkg}'\` (it is evaluated on first use, see lazySdkClients)`);
  return [...names].sort();
}

/**
 * An esbuild plugin: `node:http2` as `@smithy/node-http-handler` imports it (for its HTTP/2 handler, which the
 * clients do not use: they send HTTP/1.1 through `node:https`) is loaded when first used rather than with the
 * handler's module, which reads `http2.constants` at its top: a stand-in whose members load the real module on access.
 */
export function lazyHttp2(): Plugin {
  return {
    name: 'lazy-http2',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^(node:)?http2$/ }, (args) => {
        if (!args.importer.includes('node_modules/@smithy/node-http-handler/')) return undefined;
        return { path: 'node:http2', namespace: 'lazy-http2' };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-http2' }, () => ({
        contents: [
          'let real;',
          'const load = () => real ??= require(\'node:http2\');',
          'const constants = new Proxy({}, { get: (_, name) => load().constants[name] });',
          'module.exports = new Proxy({}, { get: (_, name) => (name === \'constants\' ? constants : load()[name]) });',
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/** The bundle's esbuild options; `minify: false` and `metafile: true` for the benchmark's twin. */
export function handlerBuildOptions(outfile: string, overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: ['lambda/index.ts'],
    bundle: true,
    platform: 'node',
    target: LAMBDA_NODE_TARGET,
    format: 'cjs',
    minify: true,
    legalComments: 'external',
    outfile,
    logLevel: 'warning',
    plugins: [lazySdkClients(), lazyHttp2()],
    ...overrides,
  };
}

/** Bundles the handler into `outfile`; returns esbuild's metafile when asked for. */
export async function bundleHandler(outfile: string, overrides: Partial<BuildOptions> = {}): Promise<Metafile | undefined> {
  const result = await build(handlerBuildOptions(outfile, overrides));
  return result.metafile;
}

if (require.main === module) {
  bundleHandler(process.argv[2] ?? join(ROOT, 'assets', 'handler', 'index.js')).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
