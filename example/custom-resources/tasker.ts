/** Synchronous invocation of the starter function, with every way it can fail turned into a readable reason. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

export type InvokeOutcome =
  /** The tasker returned normally: it owns the CloudFormation response from here on. */
  | { readonly ok: true; readonly result: unknown }
  /** The invoke failed or the tasker threw: it has not answered CloudFormation. */
  | { readonly ok: false; readonly reason: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Invokes `functionName` with `payload` (RequestResponse) and classifies the outcome. Never throws. */
export async function invokeTasker(client: LambdaClient, functionName: string, payload: object): Promise<InvokeOutcome> {
  let output;
  try {
    output = await client.send(new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(payload)),
    }));
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    return { ok: false, reason: `Could not invoke the starter function ${functionName}: ${name}: ${message}` };
  }
  const text = output.Payload === undefined ? '' : Buffer.from(output.Payload).toString('utf8');
  const result = text === '' ? undefined : parseJson(text);
  if (output.FunctionError !== undefined) {
    const failure = (typeof result === 'object' && result !== null ? result : {}) as { errorType?: unknown; errorMessage?: unknown };
    const type = typeof failure.errorType === 'string' ? failure.errorType : output.FunctionError;
    const message = typeof failure.errorMessage === 'string' ? failure.errorMessage : text || '(no message)';
    return { ok: false, reason: `The starter function ${functionName} failed: ${type}: ${message}` };
  }
  return { ok: true, result };
}
