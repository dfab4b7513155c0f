/**
 * The tasker's bundled handler (`assets/handler/index.js`, what the construct deploys) as a local function on its
 * own, outside a synthesized stack: the reliability suite and the benchmarks run it against the local services
 * (`startLocalAws`), configured through the contract's environment variable names.
 */
import { dirname } from 'node:path';
import { LocalFunction } from './function';
import { Env } from '../../src/contract';
import { bundlePath } from '../bundles';

/** The bundled handler, as the construct deploys it. */
export const HANDLER_BUNDLE = bundlePath('handler');

/** The local services the handler calls. */
export interface HandlerEndpoints {
  readonly dynamodb: string;
  readonly sfn: string;
  readonly redshiftData: string;
}

/** Cluster, database and user the local handler targets (any name works with the Data API stand-in). */
export const LOCAL_TARGET = { clusterIdentifier: 'examplecluster', database: 'dev', dbUser: 'admin' } as const;

/**
 * The handler's environment for local endpoints: the construct's variables (names from the contract) and the SDK's
 * endpoint variables. Anything not pointed at a local server goes to a closed loopback port, never to AWS.
 */
export function handlerEnvironment(endpoints: HandlerEndpoints, tableName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [Env.TABLE_NAME]: tableName,
    [Env.CLUSTER_IDENTIFIER]: LOCAL_TARGET.clusterIdentifier,
    [Env.DATABASE]: LOCAL_TARGET.database,
    [Env.DB_USER]: LOCAL_TARGET.dbUser,
    [Env.TTL_DAYS]: '1',
    [Env.LOG_LEVEL]: 'SILENT',
    [Env.LOOPBACK_RESPONSE_URLS]: 'true',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCALTASKER',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    AWS_ENDPOINT_URL_REDSHIFT_DATA: endpoints.redshiftData,
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

export interface HandlerFunctionOptions {
  /** Execution environments, all started before this resolves (invocations beyond them wait). @default 1 */
  readonly environments?: number;
  /** @default 'local-tasker' */
  readonly name?: string;
  /** @default 60 */
  readonly timeoutSeconds?: number;
  readonly onLog?: (line: string, fn: string) => void;
}

/** Starts the bundled handler with `environment` in warm execution environments. */
export async function startHandlerFunction(environment: Record<string, string>, options: HandlerFunctionOptions = {}): Promise<LocalFunction> {
  const environments = options.environments ?? 1;
  const fn = new LocalFunction({
    name: options.name ?? 'local-tasker',
    codeDir: dirname(HANDLER_BUNDLE),
    environment,
    timeoutSeconds: options.timeoutSeconds ?? 60,
    memoryMb: 256,
    maxEnvironments: environments,
    accessKeyId: environment.AWS_ACCESS_KEY_ID,
    onLog: options.onLog,
  });
  try {
    await fn.prewarm(environments);
  } catch (error) {
    await fn.close();
    throw error;
  }
  return fn;
}
