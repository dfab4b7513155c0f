/**
 * The endpoint every AWS service without a local stand-in points at (`AWS_ENDPOINT_URL` of the functions): a call a
 * function makes to such a service fails at once with an error that names it, instead of reaching the internet.
 */
import { IncomingMessage } from 'node:http';
import { LoopbackServer, sendJson, startLoopbackServer } from './http-util';

export interface UnsupportedCall {
  readonly service: string;
  readonly operation: string;
}

export interface UnsupportedServicesServer extends LoopbackServer {
  /** Every call answered, in order. */
  readonly calls: readonly UnsupportedCall[];
}

/** The service and operation of a request, as far as its headers and path tell (JSON, query and REST protocols). */
function describe(req: IncomingMessage, body: Buffer): UnsupportedCall {
  const target = String(req.headers['x-amz-target'] ?? '');
  const authorization = String(req.headers.authorization ?? '');
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? (target.split('.')[0] || 'unknown');
  const action = /(?:^|&)Action=([^&]+)/.exec(body.toString('utf8'))?.[1];
  return { service, operation: target.split('.').pop() || action || `${req.method} ${req.url}` };
}

export async function startUnsupportedServices(): Promise<UnsupportedServicesServer> {
  const calls: UnsupportedCall[] = [];
  const server = await startLoopbackServer((req, res, body) => {
    const call = describe(req, body);
    calls.push(call);
    // 400: an error the SDK does not retry.
    sendJson(res, 400, {
      __type: 'LocalServiceNotAvailable',
      message: `${call.service} ${call.operation} is not available in the local run (only DynamoDB, the Redshift Data API, `
        + 'Step Functions callbacks and Lambda have local stand-ins); mock the state that calls it',
    });
  });
  return { ...server, calls, close: () => server.close() };
}
