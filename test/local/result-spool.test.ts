/**
 * Large results in the Data API stand-in: the rows of a result over 4 MiB are read from PostgreSQL as they come and
 * kept in a file, then served page by page from it, exactly as a small result is served from memory; the file goes
 * with the server. The spool itself: pages across its index, values of every shape, a discard.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { ResultSpool, SpoolDirectory, TextRow } from '../../local/redshift-data/result-spool';
import { sleep } from '../../local/servers/http-util';
import { RedshiftDataServer, startRedshiftDataServer } from '../../local/servers/redshift-data';
import { tempDir } from '../support/temp';

jest.setTimeout(120_000);

describe('ResultSpool', () => {
  const rows = (from: number, to: number): TextRow[] => Array.from({ length: to - from }, (_, i) => {
    const n = from + i;
    return [String(n), n % 7 === 0 ? null : `name "${n}" ✓\n,`, n % 2 === 0 ? 't' : 'f'];
  });

  test('a result under the limit stays in memory and reads page by page', () => {
    const spool = new ResultSpool(new SpoolDirectory(tempDir('spool-')));
    spool.append(rows(0, 10));
    spool.finish();
    expect(spool.onDisk).toBe(false);
    expect(spool.rowCount).toBe(10);
    expect(spool.read(8, 5)).toEqual(rows(8, 10));
    expect(spool.read(10, 5)).toEqual([]);
  });

  test('past the limit the rows move to a file, and any page reads back exactly, across the index', () => {
    const root = tempDir('spool-');
    const directory = new SpoolDirectory(root);
    const spool = new ResultSpool(directory, 10_000);
    for (let from = 0; from < 5000; from += 333) spool.append(rows(from, Math.min(5000, from + 333)));
    spool.finish();
    expect(spool.onDisk).toBe(true);
    expect(spool.rowCount).toBe(5000);
    const expected = rows(0, 5000);
    expect(spool.size).toBe(expected.flat().reduce((sum, value) => sum + (value === null ? 0 : Buffer.byteLength(value)), 0));
    for (const [offset, count] of [[0, 1], [255, 2], [256, 256], [1000, 1000], [4990, 100], [4999, 1]]) {
      expect(spool.read(offset, count)).toEqual(expected.slice(offset, offset + count));
    }
    expect(readdirSync(directory.current!)).toHaveLength(1);
    spool.discard();
    expect(readdirSync(directory.current!)).toEqual([]);
    directory.remove();
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('a result over 4 MiB through the Data API', () => {
  let server: RedshiftDataServer | undefined;
  let client: RedshiftDataClient;
  let root: string;

  beforeAll(async () => {
    root = tempDir('spool-server-');
    const started = await startRedshiftDataServer({ clusters: ['c'], resultPageRows: 2000, resultSpoolDir: root });
    server = started;
    client = new RedshiftDataClient({ endpoint: started.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'local' } });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  test('is served page by page from the spool, every row once and in order, and the file goes with the server', async () => {
    const rows = 40_000;
    const { Id } = await client.send(new ExecuteStatementCommand({
      ClusterIdentifier: 'c',
      Database: 'dev',
      DbUser: 'u',
      Sql: `select n, repeat('x', 100) || n as text, case when n % 3 = 0 then null else (n * 1.5)::numeric(12,1) end as half from generate_series(1, ${rows}) n order by n`,
    }));
    let described;
    do {
      await sleep(50);
      described = await client.send(new DescribeStatementCommand({ Id }));
    } while (!['FINISHED', 'FAILED', 'ABORTED'].includes(described.Status!));
    expect(described.Status).toBe('FINISHED');
    expect(described.ResultRows).toBe(rows);
    expect(described.ResultSize).toBeGreaterThan(4 * 1024 * 1024);
    expect(readdirSync(root)).toHaveLength(1);
    expect(readdirSync(join(root, readdirSync(root)[0]))).toHaveLength(1);

    let next: string | undefined;
    let seen = 0;
    let pages = 0;
    do {
      const page = await client.send(new GetStatementResultCommand({ Id, NextToken: next }));
      expect(page.TotalNumRows).toBe(rows);
      for (const record of page.Records!) {
        seen += 1;
        expect(record[0]).toEqual({ longValue: seen });
        expect(record[1]).toEqual({ stringValue: `${'x'.repeat(100)}${seen}` });
        expect(record[2]).toEqual(seen % 3 === 0 ? { isNull: true } : { stringValue: (seen * 1.5).toFixed(1) });
      }
      pages += 1;
      next = page.NextToken;
    } while (next);
    expect(seen).toBe(rows);
    expect(pages).toBe(rows / 2000);

    await server!.close();
    server = undefined;
    expect(readdirSync(root)).toEqual([]);
  });
});
