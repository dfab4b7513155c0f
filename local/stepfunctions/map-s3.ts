/**
 * The S3 side of a Distributed Map for the local runner: its `ItemReader` (`s3:getObject` with JSON, JSON Lines or
 * CSV; `s3:listObjectsV2`) and its `ResultWriter` (`s3:putObject`: the manifest and the result files), through the
 * real `@aws-sdk/client-s3` pointed at the local S3 stand-in.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Json, JsonObject } from './definition';
import { TaskError } from './types';

/** The error a Map state fails with when it cannot read its items, as Step Functions reports it. */
export const ITEM_READER_FAILED = 'States.ItemReaderFailed';
/** The error a Map state fails with when it cannot write its results. */
export const RESULT_WRITER_FAILED = 'States.ResultWriterFailed';

/** What to do about a feature the local runner lacks. */
export const MOCK_IT = 'answer the Map state with a mocked response (docs/local-testing.md, "Mocks"), or test it in AWS';

/** An S3 client for the local stand-in. */
export function localS3Client(endpoint: string, region: string): S3Client {
  return new S3Client({
    endpoint, region, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1,
  });
}

/** An `ItemReader` of a Map state. */
export interface ItemReaderDefinition {
  readonly Resource: string;
  readonly ReaderConfig?: {
    readonly InputType?: string;
    readonly CSVHeaderLocation?: string;
    readonly CSVHeaders?: string[];
    readonly CSVDelimiter?: string;
    readonly MaxItems?: number;
    readonly MaxItemsPath?: string;
    readonly ItemsPointer?: string;
    readonly Transformation?: string;
  };
  readonly Parameters?: Json;
  readonly Arguments?: Json;
}

const DELIMITERS: Record<string, string> = { COMMA: ',', PIPE: '|', SEMICOLON: ';', SPACE: ' ', TAB: '\t' };

/**
 * The items an `ItemReader` reads: `params` are its evaluated `Parameters`/`Arguments` (`Bucket`, `Key` or `Prefix`).
 * S3 errors (a missing object or bucket) and unreadable content fail with `States.ItemReaderFailed`.
 */
export async function readItems(client: S3Client, reader: ItemReaderDefinition, params: JsonObject, maxItems?: number): Promise<Json[]> {
  const action = /^arn:aws[a-z-]*:states:::s3:(\w+)$/.exec(reader.Resource)?.[1];
  const bucket = String(params.Bucket ?? '');
  const config = reader.ReaderConfig ?? {};
  if (config.Transformation !== undefined && config.Transformation !== 'NONE') {
    throw new TaskError('States.Runtime', `The local runner does not support the ItemReader ReaderConfig.Transformation ${config.Transformation}: ${MOCK_IT}.`);
  }
  if (action === 'listObjectsV2') return listObjects(client, bucket, typeof params.Prefix === 'string' ? params.Prefix : undefined, maxItems);
  if (action !== 'getObject') {
    throw new TaskError('States.Runtime', `The local runner does not support the ItemReader resource ${reader.Resource} (it reads s3:getObject and s3:listObjectsV2): ${MOCK_IT}.`);
  }
  const inputType = config.InputType ?? 'JSON';
  if (!['JSON', 'JSONL', 'CSV'].includes(inputType)) {
    throw new TaskError('States.Runtime', `The local runner does not support the ItemReader InputType ${inputType} (it reads JSON, JSONL and CSV): ${MOCK_IT}.`);
  }
  const key = String(params.Key ?? '');
  let text: string;
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await object.Body!.transformToString('utf8');
  } catch (error) {
    throw s3Failure(error, `read s3://${bucket}/${key}`);
  }
  const items = parseItems(text, inputType, config, `s3://${bucket}/${key}`);
  return maxItems !== undefined ? items.slice(0, maxItems) : items;
}

function s3Failure(error: unknown, what: string): Error {
  const name = (error as { name?: string }).name ?? 'Error';
  return new TaskError(ITEM_READER_FAILED, `The ItemReader could not ${what}: ${name}: ${(error as Error).message}`);
}

/** Parses an object's text as Step Functions does for each `InputType`. */
export function parseItems(text: string, inputType: string, config: NonNullable<ItemReaderDefinition['ReaderConfig']>, where: string): Json[] {
  try {
    if (inputType === 'JSONL') {
      return text.split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Json);
    }
    if (inputType === 'CSV') return csvItems(text, config);
    let parsed = JSON.parse(text) as Json;
    if (config.ItemsPointer) {
      for (const part of config.ItemsPointer.split('/').slice(1)) {
        const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
        parsed = (parsed && typeof parsed === 'object' ? (parsed as Record<string, Json>)[name] : undefined) ?? null;
      }
    }
    if (!Array.isArray(parsed)) throw new Error('the content is not a JSON array');
    return parsed;
  } catch (error) {
    throw new TaskError(ITEM_READER_FAILED, `The ItemReader could not parse ${where} as ${inputType}: ${(error as Error).message}`);
  }
}

/** CSV rows as objects of strings (values are not converted, as in Step Functions), by header. */
function csvItems(text: string, config: NonNullable<ItemReaderDefinition['ReaderConfig']>): Json[] {
  const rows = parseCsv(text, DELIMITERS[config.CSVDelimiter ?? 'COMMA'] ?? ',');
  const location = config.CSVHeaderLocation ?? 'FIRST_ROW';
  const headers = location === 'GIVEN' ? config.CSVHeaders ?? [] : rows.shift() ?? [];
  if (headers.length === 0) throw new Error(location === 'GIVEN' ? 'CSVHeaders is empty' : 'the object has no header row');
  return rows.map((row) => Object.fromEntries(headers.map((header, i) => [header, row[i] ?? ''])));
}

/** RFC 4180 CSV: quoted fields (with `""` and line breaks inside), CRLF or LF; blank lines are skipped. */
export function parseCsv(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else {
      field += c;
    }
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** The objects under a prefix, as Step Functions gives them to a Map (`LastModified` in epoch seconds). */
async function listObjects(client: S3Client, bucket: string, prefix: string | undefined, maxItems?: number): Promise<Json[]> {
  const items: Json[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        items.push({
          Etag: o.ETag ?? '',
          Key: o.Key ?? '',
          LastModified: Math.floor((o.LastModified?.getTime() ?? 0) / 1000),
          Size: o.Size ?? 0,
          StorageClass: o.StorageClass ?? 'STANDARD',
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && (maxItems === undefined || items.length < maxItems));
  } catch (error) {
    throw s3Failure(error, `list s3://${bucket}/${prefix ?? ''}`);
  }
  return maxItems !== undefined ? items.slice(0, maxItems) : items;
}

/** One child execution as a `ResultWriter` file lists it. */
export interface ChildRecord extends JsonObject {
  ExecutionArn: string;
  Name: string;
  StateMachineArn: string;
  Status: string;
  Input: string;
  StartDate: string;
  StopDate: string;
}

/**
 * Writes a Map Run's results as Step Functions does: `<Prefix>/<map run id>/SUCCEEDED_0.json` and `FAILED_0.json`
 * (JSON arrays of child executions; a file only when it has any) and `manifest.json` listing them. Returns the
 * manifest's key.
 */
export async function writeResults(
  client: S3Client, target: { bucket: string; prefix: string; mapRunArn: string }, files: { SUCCEEDED: Json[]; FAILED: Json[] },
): Promise<string> {
  const runId = target.mapRunArn.split(':').pop()!;
  const base = target.prefix === '' ? runId : `${target.prefix.replace(/\/+$/, '')}/${runId}`;
  const put = async (key: string, body: string) => {
    try {
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      throw new TaskError(RESULT_WRITER_FAILED, `The ResultWriter could not write s3://${target.bucket}/${key}: ${name}: ${(error as Error).message}`);
    }
    return { Key: key, Size: Buffer.byteLength(body) };
  };
  const listed: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', Json[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    if (files[status].length > 0) listed[status].push(await put(`${base}/${status}_0.json`, JSON.stringify(files[status])));
  }
  const manifestKey = `${base}/manifest.json`;
  await put(manifestKey, JSON.stringify({ DestinationBucket: target.bucket, MapRunArn: target.mapRunArn, ResultFiles: listed }));
  return manifestKey;
}
