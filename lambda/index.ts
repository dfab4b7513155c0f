/**
 * Entry point of the tasker's Lambda function: reads the configuration once per cold start, then routes each
 * invocation (see `router.ts`). The invocation API is documented in `lambda/README.md`.
 *
 * Cold start: module scope only reads the configuration and creates the logger. The SDK clients, the tracking table
 * and the metrics are created on first use (a start never creates the Step Functions client, a completion never the
 * Redshift Data one), and kept for the next invocations of the execution environment.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { nodeHttpPut } from './cfn-callback';
import { Config, readConfig } from './config';
import { Deps, createClients } from './deps';
import { lambdaInvoker } from './describe-via';
import { describeError } from './errors';
import { EmfMetrics } from './metrics';
import { route } from './router';
import { TrackingTable } from './tracking-table';

const logger = new Logger({ serviceName: 'cdk-stepfunctions-redshift' });

let lambdaClient: LambdaClient | undefined;
/** Only a completer that describes another function's statements invokes it. */
function lazyLambdaClient(): LambdaClient {
  lambdaClient ??= new LambdaClient({});
  return lambdaClient;
}

/** The execution environment's dependencies: what each invocation's `Deps` reads, each made on first use. */
function environmentDeps(config: Config) {
  const clients = createClients();
  let table: TrackingTable | undefined;
  let metrics: EmfMetrics | undefined;
  const invoke = lambdaInvoker(lazyLambdaClient);
  /** One invocation's deps: plain properties and getters over the shared, lazily created ones. */
  const depsOf = (remainingTimeMs?: () => number): Deps => ({
    config,
    log: logger,
    get table() {
      table ??= new TrackingTable(clients.ddb, config.tableName);
      return table;
    },
    get redshiftData() {
      return clients.redshiftData;
    },
    get sfn() {
      return clients.sfn;
    },
    get s3() {
      return clients.s3;
    },
    httpPut: nodeHttpPut,
    invoke,
    get metrics() {
      metrics ??= new EmfMetrics();
      return metrics;
    },
    now: () => Date.now(),
    ...remainingTimeMs ? { remainingTimeMs } : {},
    restart: (event) => route(depsOf(remainingTimeMs), event),
  });
  return depsOf;
}

function initialise(): { deps: ReturnType<typeof environmentDeps> } | { error: Error } {
  try {
    const config = readConfig(process.env);
    logger.setLogLevel(config.logLevel);
    return { deps: environmentDeps(config) };
  } catch (error) {
    return { error: error as Error };
  }
}

const state = initialise();

export async function handler(event: unknown, context?: Context): Promise<unknown> {
  if ('error' in state) {
    logger.error('The function is misconfigured', { error: describeError(state.error) });
    throw state.error;
  }
  if (context) logger.addContext(context);
  try {
    const deps = state.deps(context ? () => context.getRemainingTimeInMillis() : undefined);
    return await route(deps, event);
  } catch (error) {
    logger.info('Invocation failed', { error: describeError(error) });
    throw error;
  }
}
