/** Calls to AWS services without a local stand-in fail at once with an error naming the service and operation. */
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startUnsupportedServices, UnsupportedServicesServer } from '../../local/servers/unsupported';

let server: UnsupportedServicesServer;

beforeAll(async () => {
  server = await startUnsupportedServices();
});

afterAll(() => server?.close());

test('an SDK call gets a named, non-retried error', async () => {
  expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const client = new SFNClient({ endpoint: server.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
  try {
    await expect(client.send(new ListStateMachinesCommand({}))).rejects.toMatchObject({
      name: 'LocalServiceNotAvailable',
      message: expect.stringMatching(/^states ListStateMachines is not available in the local run .*mock the state that calls it$/),
    });
  } finally {
    client.destroy();
  }
  // Not retried: one call.
  expect(server.calls).toEqual([{ service: 'states', operation: 'ListStateMachines' }]);
});
