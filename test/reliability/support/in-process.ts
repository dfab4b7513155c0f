/**
 * Loads the bundled handler into the test process (one "Lambda instance" that the test can call directly): its
 * configuration and SDK endpoints come from `env`, which stays in `process.env` for the rest of the test file
 * (the SDK resolves endpoints lazily, on the first call).
 */
import { HANDLER_BUNDLE as BUNDLE } from '../../../local/lambda/handler';

export type Handler = (event: unknown, context?: unknown) => Promise<any>;

/**
 * The environment of the suites that test completions by events: the fast path off, so every completion goes through
 * the event (the fast path has its own suite, `fast-path.test.ts`).
 */
export const EVENT_PATH = { FAST_PATH_WAIT_SECONDS: '0' } as const;

export function loadBundledHandler(env: Record<string, string>): Handler {
  // The metrics' EMF lines would fill the test output (they are tested in test/lambda/metrics.test.ts).
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'true' }, env);
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(BUNDLE).handler;
  });
  return handler!;
}

/** Invokes and reports like Lambda: the result, or the error's name (the Lambda error type) and message. */
export async function invoke(handler: Handler, event: unknown): Promise<
  { ok: true; result: any } | { ok: false; errorType: string; errorMessage: string }
> {
  try {
    return { ok: true, result: await handler(event) };
  } catch (error) {
    return {
      ok: false,
      errorType: error instanceof Error ? error.name : typeof error,
      errorMessage: error instanceof Error ? error.message : String(error),
    };
  }
}
