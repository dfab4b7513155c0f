/**
 * The count tables the Python, Java and Go apps read (test/bindings/resource-counts.json) are what the construct
 * creates: a change to a default tasker's resources fails here, in the build, not only in the bindings run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SfnRedshiftTasker } from '../../src';
import { testApp } from '../support/temp';

const FILE = join(__dirname, 'resource-counts.json');
const tables = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Record<string, number>>;

function resourceCounts(stack: Stack): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { Type } of Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>)) {
    counts[Type] = (counts[Type] ?? 0) + 1;
  }
  return counts;
}

test('defaultTasker and taskerWithoutCallbackInfra are what the construct creates (else update resource-counts.json)', () => {
  const stack = new Stack(testApp(), 'Counts');
  new SfnRedshiftTasker(stack, 'First', {
    redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'etl_user' },
  });
  expect({ defaultTasker: resourceCounts(stack) }).toEqual({ defaultTasker: tables.defaultTasker });

  const both = new Stack(testApp(), 'Shared');
  const owner = new SfnRedshiftTasker(both, 'Owner', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'etl_user' } });
  new SfnRedshiftTasker(both, 'Second', {
    redshiftTargetProps: { workgroupName: 'reporting', dbName: 'dev' }, createCallbackInfra: false, existingTableObj: owner.trackingTable,
  });
  const second = Object.fromEntries(Object.entries(resourceCounts(both))
    .map(([type, n]) => [type, n - (tables.defaultTasker[type] ?? 0)])
    .filter(([, n]) => n !== 0));
  expect({ taskerWithoutCallbackInfra: second }).toEqual({ taskerWithoutCallbackInfra: tables.taskerWithoutCallbackInfra });
});
