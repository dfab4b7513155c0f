/**
 * A finished statement's whole result written to S3, page by page, in JSON Lines (one plain object per line, the
 * conversions of `rows.ts`) or CSV (a header line, then the same values, RFC 4180 quoting, NULL as an empty field):
 * `<prefix><statement id>.jsonl` / `.csv`, one object per statement (each statement of a list under its own id). The
 * key depends only on the statement, so a completion retried after a failure writes the same object again, never a
 * second one.
 *
 * Memory stays flat whatever the size: the page being written and the next one asked for, the part being filled and
 * the one being sent (`PART_BYTES`). Reading, converting and sending overlap. A result smaller than a part is one
 * `PutObject`; a larger one a multipart upload, aborted when anything fails (nothing is left behind).
 * Pages are read only while the invocation has time left (`RESERVE_MS` kept for the callback): past it the upload is
 * aborted and the export fails with `ResultExportTooLarge`, naming the limit and the alternative (`UNLOAD`).
 *
 * The Data API shows a result only to the IAM role that started the statement: a completer that did not start it asks
 * its starter (`exportResult`), which writes it (the starter's role has the bucket's grant).
 */
import { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Deps } from './deps';
import { describeAsStarter } from './describe-via';
import { TaskerError, describeError } from './errors';
import { readResultPage, ResultPage } from './result-rows';
import { Column, columnsOf, plainRow, plainValue } from './rows';
import { Action, ErrorName, ExportFormatName, Field } from '../src/contract';

/** Bytes of one uploaded part (S3 wants at least 5 MiB for every part but the last). */
export const PART_BYTES = 8 * 1024 * 1024;
/** Milliseconds an export leaves of its invocation for completing the upload, the callback and the settle. */
export const RESERVE_MS = 20_000;

/** Where and how a result is written. */
export interface ExportTarget {
  readonly bucket: string;
  readonly keyPrefix: string;
  readonly format: ExportFormatName;
}

/** One statement's export, as its callback carries it (usable by a Distributed Map's `ItemReader`). */
export interface StatementExport {
  readonly statementId: string;
  readonly hasResultSet: boolean;
  /** Rows written (a statement without rows: the rows it changed, and no object). */
  readonly rows: number;
  readonly bucket?: string;
  readonly key?: string;
  readonly bytes?: number;
  readonly format?: ExportFormatName;
  readonly columns?: Column[];
}

export type ExportResult = StatementExport | { readonly statements: StatementExport[] };

/** The result could not be written within the function's time budget; nothing was written. */
export class ResultExportTooLarge extends TaskerError {
  public readonly name = ErrorName.RESULT_EXPORT_TOO_LARGE;
}

/** The object key of a statement's export. */
export function exportKey(target: ExportTarget, statementId: string): string {
  return `${target.keyPrefix}${statementId}.${target.format === 'CSV' ? 'csv' : 'jsonl'}`;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces; NULL is empty. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Collects lines into parts and writes them: one PutObject when it all fits one part, else a multipart upload with
 * one part in flight while the next is filled (at most two parts in memory).
 */
class ObjectWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private upload: Promise<string | undefined> | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly parts: { ETag?: string; PartNumber: number }[] = [];
  public bytes = 0;

  constructor(
    private readonly deps: Deps, private readonly bucket: string, private readonly key: string, private readonly contentType: string,
  ) {}

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, 'utf8');
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.bytes += chunk.length;
    if (this.buffered >= PART_BYTES) await this.flushPart();
  }

  /** Starts sending the buffered part once the part before it is sent (its failure is thrown here). */
  private async flushPart(): Promise<void> {
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    await this.inFlight;
    this.upload ??= this.deps.s3.send(new CreateMultipartUploadCommand({
      Bucket: this.bucket, Key: this.key, ContentType: this.contentType,
    })).then((created) => created.UploadId);
    const PartNumber = this.parts.length + 1;
    const part = { PartNumber } as { ETag?: string; PartNumber: number };
    this.parts.push(part);
    const upload = this.upload;
    const sending = (async () => {
      const UploadId = await upload;
      const sent = await this.deps.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId, PartNumber, Body: body }));
      part.ETag = sent.ETag;
    })();
    // Awaited by the next part, `close` or `abort`; never left unobserved.
    sending.catch(() => undefined);
    this.inFlight = sending;
  }

  async close(): Promise<void> {
    if (this.upload === undefined) {
      await this.deps.s3.send(new PutObjectCommand({
        Bucket: this.bucket, Key: this.key, Body: Buffer.concat(this.chunks), ContentType: this.contentType,
      }));
      return;
    }
    if (this.buffered > 0) await this.flushPart();
    await this.inFlight;
    await this.deps.s3.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket, Key: this.key, UploadId: await this.upload, MultipartUpload: { Parts: this.parts },
    }));
  }

  /** Aborts a multipart upload under way (best effort: a bucket lifecycle rule cleans up what an abort misses). */
  async abort(): Promise<void> {
    const UploadId = await this.upload?.catch(() => undefined);
    if (UploadId === undefined) return;
    try {
      await this.inFlight?.catch(() => undefined);
      await this.deps.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId }));
    } catch (error) {
      this.deps.log.warn('Could not abort the multipart upload of an export', { bucket: this.bucket, key: this.key, error: describeError(error) });
    }
  }
}

type Described = Pick<DescribeStatementResponse, 'Id' | 'HasResultSet' | 'ResultRows' | 'ResultSize'>;

function timeLeft(deps: Deps): number {
  return deps.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY;
}

async function exportStatement(deps: Deps, statement: Described, target: ExportTarget): Promise<StatementExport> {
  const statementId = statement.Id!;
  if (statement.HasResultSet !== true) return { statementId, hasResultSet: false, rows: Math.max(0, statement.ResultRows ?? 0) };
  const key = exportKey(target, statementId);
  const csv = target.format === 'CSV';
  const writer = new ObjectWriter(deps, target.bucket, key, csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  let columns: Column[] | undefined;
  let rows = 0;
  // The next page is asked for while this one is converted and written: the Data API's answer, the conversion and the
  // upload overlap (one page in flight, never more).
  const read = (token: string | undefined) => {
    const page = readResultPage(deps, statementId, token, undefined);
    page.catch(() => undefined);
    return page;
  };
  let next: Promise<ResultPage> | undefined = read(undefined);
  try {
    while (next !== undefined) {
      if (timeLeft(deps) < RESERVE_MS) {
        throw new ResultExportTooLarge(`Exporting statement ${statementId} stopped after ${rows} of ${statement.ResultRows ?? 'its'} rows `
          + `(${writer.bytes} bytes written): the function had ${Math.round(timeLeft(deps) / 1000)} s of its timeout left, and `
          + `keeps ${RESERVE_MS / 1000} s for the callback (a Lambda function runs at most 15 minutes). The upload was aborted; `
          + 'nothing was written. Write the result with UNLOAD (UNLOAD (\'select ...\') TO \'s3://bucket/prefix/\' IAM_ROLE ... '
          + 'FORMAT JSON) and map over its files with a Distributed Map, or raise the tasker\'s function timeout.');
      }
      const page: ResultPage = await next;
      next = page.NextToken ? read(page.NextToken) : undefined;
      if (columns === undefined) {
        columns = columnsOf(page.ColumnMetadata);
        if (csv) await writer.write(`${columns.map((column) => csvField(column.name)).join(',')}\r\n`);
      }
      const cols = columns;
      const lines = (page.Records ?? []).map((record) => (csv
        ? `${cols.map((column, index) => csvField(record[index] === undefined ? null : plainValue(record[index], column.type))).join(',')}\r\n`
        : `${JSON.stringify(plainRow(record, cols))}\n`));
      rows += lines.length;
      if (lines.length > 0) await writer.write(lines.join(''));
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  deps.log.info('Exported a result to S3', { statementId, bucket: target.bucket, key, rows, bytes: writer.bytes, format: target.format });
  return { statementId, hasResultSet: true, rows, bucket: target.bucket, key, bytes: writer.bytes, format: target.format, columns: columns ?? [] };
}

/**
 * Writes the result of a finished statement (of each statement of a list) to S3, as this function (its starter).
 * @throws ResultExportTooLarge past the time budget; S3 and Data API errors as they are (the caller retries)
 */
export async function exportResult(deps: Deps, statementId: string, target: ExportTarget): Promise<ExportResult> {
  const described = await describeAsStarter(deps, statementId, undefined);
  const subStatements = described.SubStatements ?? [];
  if (subStatements.length === 0) return exportStatement(deps, { ...described, Id: described.Id ?? statementId }, target);
  const statements: StatementExport[] = [];
  for (const sub of subStatements) statements.push(await exportStatement(deps, sub, target));
  return { statements };
}

/** Exports as the statement's starter: itself, or by invoking it (`exportResult`) when another function started it. */
export async function exportAsStarter(deps: Deps, statementId: string, startedBy: string | undefined, target: ExportTarget): Promise<ExportResult> {
  if (startedBy === undefined || startedBy === deps.config.functionName) return exportResult(deps, statementId, target);
  return await deps.invoke(startedBy, {
    [Field.ACTION]: Action.EXPORT_RESULT,
    [Field.STATEMENT_ID]: statementId,
    [Field.EXPORT_BUCKET]: target.bucket,
    [Field.EXPORT_KEY_PREFIX]: target.keyPrefix,
    [Field.EXPORT_FORMAT]: target.format,
  }) as ExportResult;
}
