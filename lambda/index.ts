/**
 * Entry point of the tasker's Lambda function: reads the configuration and creates the SDK clients once per cold
 * start, then routes each invocation (see `router.ts`). The invocation API is documented in `lambda/README.md`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { nodeHttpPut } from './cfn-callback';
import { readConfig } from './config';
import { Deps, createClients } from './deps';
import { lambdaInvoker } from './describe-via';
import { describeError } from './errors';
import { EmfMetrics } from './metrics';
import { route } from './router';
import { TrackingTable } from './tracking-table';

const logger = new Logger({ serviceName: 'cdk-stepfunctions-redshift' });

function initialise(): { deps: Deps } | { error: Error } {
  try {
    const config = readConfig(process.env);
    logger.setLogLevel(config.logLevel);
    const { ddb, redshiftData, sfn } = createClients();
    return {
      deps: {
        config,
        log: logger,
        table: new TrackingTable(ddb, config.tableName),
        redshiftData,
        sfn,
        httpPut: nodeHttpPut,
        invoke: lambdaInvoker(lazyLambdaClient),
        metrics: new EmfMetrics(),
        now: () => Date.now(),
      },
    };
  } catch (error) {
    return { error: error as Error };
  }
}

let lambdaClient: LambdaClient | undefined;
/** Only a completer that describes another function's statements invokes it. */
function lazyLambdaClient(): LambdaClient {
  lambdaClient ??= new LambdaClient({});
  return lambdaClient;
}

const state = initialise();

export async function handler(event: unknown, context?: Context): Promise<unknown> {
  if ('error' in state) {
    logger.error('The function is misconfigured', { error: describeError(state.error) });
    throw state.error;
  }
  if (context) logger.addContext(context);
  try {
    const deps = context ? { ...state.deps, remainingTimeMs: () => context.getRemainingTimeInMillis() } : state.deps;
    return await route(deps, event);
  } catch (error) {
    logger.info('Invocation failed', { error: describeError(error) });
    throw error;
  }
}
