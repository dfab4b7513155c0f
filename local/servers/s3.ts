/**
 * An S3 stand-in on 127.0.0.1 implementing only what result exports and their readers use, path-style
 * (`/<bucket>/<key>`): PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * GetObject, ListObjectsV2. Objects are kept in memory. Bodies the SDK sends `aws-chunked` (with a trailing
 * checksum) are decoded. Errors are S3's XML errors (`NoSuchBucket`, `NoSuchKey`, `NoSuchUpload`, `InvalidPart`,
 * `EntityTooSmall`).
 *
 * Why not an npm package (`s3rver`, say): it brings a web framework, a logger and an old XML parser (11 direct
 * dependencies) for a few hundred lines of protocol this project needs; this server has none.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer, startLoopbackServer } from './http-util';

/** S3's smallest part, except the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType?: string;
  readonly lastModified: Date;
}

export interface S3Server extends LoopbackServer {
  /** Objects by bucket, then key. */
  readonly buckets: Map<string, Map<string, StoredObject>>;
  /** Multipart uploads in progress, by upload id. */
  readonly uploads: Map<string, { bucket: string; key: string; parts: Map<number, { body: Buffer; etag: string }> }>;
  /** Calls by operation name (`PutObject`, `UploadPart`, ...). */
  readonly calls: Map<string, number>;
  /** An object's body as text, or `undefined`. */
  text(bucket: string, key: string): string | undefined;
}

export interface S3ServerOptions {
  /** Buckets that exist; others answer `NoSuchBucket`. @default - none; add them with `buckets.set(name, new Map())` */
  readonly buckets?: readonly string[];
  readonly port?: number;
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '\'': '&apos;', '"': '&quot;' }[c]!));
const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID(), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${randomUUID()}</RequestId></Error>`);
}

/** Decodes an `aws-chunked` body: `<hex size>[;extensions]\r\n<bytes>\r\n` ... `0\r\n<trailers>\r\n`. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) throw new Error('Malformed aws-chunked body.');
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('Malformed aws-chunked chunk size.');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

function payload(req: IncomingMessage, body: Buffer): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').map((e) => e.trim()).includes('aws-chunked') || sha.startsWith('STREAMING-') ? decodeAwsChunked(body) : body;
}

/** Starts the stand-in. */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = new Map<string, Map<string, StoredObject>>((options.buckets ?? []).map((name) => [name, new Map()]));
  const uploads: S3Server['uploads'] = new Map();
  const calls = new Map<string, number>();
  const count = (operation: string) => calls.set(operation, (calls.get(operation) ?? 0) + 1);

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): unknown => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const bucket = buckets.get(decodeURIComponent(bucketName));
    const q = url.searchParams;
    if (bucket === undefined) return sendError(res, 404, 'NoSuchBucket', `The specified bucket does not exist: ${bucketName}`);
    const method = req.method ?? 'GET';

    if (method === 'GET' && key === '') {
      count('ListObjectsV2');
      const prefix = q.get('prefix') ?? '';
      const max = Math.min(1000, Number(q.get('max-keys') ?? 1000));
      const after = q.get('continuation-token') ?? q.get('start-after') ?? '';
      const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, max);
      const truncated = keys.length > page.length;
      return sendXml(res, 200, `<ListBucketResult><Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>`
        + `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`
        + (truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1])}</NextContinuationToken>` : '')
        + page.map((k) => {
          const o = bucket.get(k)!;
          return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>`
            + `<ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        }).join('') + '</ListBucketResult>');
    }
    if (key === '') return sendError(res, 400, 'InvalidRequest', `${method} on a bucket is not implemented by the stand-in.`);

    if (method === 'POST' && q.has('uploads')) {
      count('CreateMultipartUpload');
      const uploadId = randomUUID();
      uploads.set(uploadId, { bucket: bucketName, key, parts: new Map() });
      return sendXml(res, 200, `<InitiateMultipartUploadResult><Bucket>${xmlEscape(bucketName)}</Bucket><Key>${xmlEscape(key)}</Key>`
        + `<UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
    }
    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (upload === undefined || upload.bucket !== bucketName || upload.key !== key) {
        return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      }
      if (method === 'PUT') {
        count('UploadPart');
        const partNumber = Number(q.get('partNumber'));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return sendError(res, 400, 'InvalidArgument', 'Part number must be 1 to 10000.');
        const body = payload(req, raw);
        const etag = etagOf(body);
        upload.parts.set(partNumber, { body, etag });
        res.writeHead(200, { 'etag': etag, 'x-amz-request-id': randomUUID(), 'content-length': 0 });
        return res.end();
      }
      if (method === 'DELETE') {
        count('AbortMultipartUpload');
        uploads.delete(uploadId);
        res.writeHead(204, { 'x-amz-request-id': randomUUID() });
        return res.end();
      }
      if (method === 'POST') {
        count('CompleteMultipartUpload');
        const listed = [...raw.toString('utf8').matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
          number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1])?.[1]),
          etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1])?.[1] ?? '').replace(/&quot;/g, '"'),
        }));
        const bodies: Buffer[] = [];
        for (const [index, part] of listed.entries()) {
          const stored = upload.parts.get(part.number);
          if (stored === undefined || stored.etag !== part.etag) return sendError(res, 400, 'InvalidPart', `Part ${part.number} was not uploaded with that ETag.`);
          if (index > 0 && part.number <= listed[index - 1].number) return sendError(res, 400, 'InvalidPartOrder', 'Parts must be in ascending order.');
          if (index < listed.length - 1 && stored.body.length < MIN_PART_BYTES) {
            return sendError(res, 400, 'EntityTooSmall', `Part ${part.number} is ${stored.body.length} bytes; every part but the last needs 5 MiB.`);
          }
          bodies.push(stored.body);
        }
        if (listed.length === 0) return sendError(res, 400, 'MalformedXML', 'No parts.');
        const body = Buffer.concat(bodies);
        const etag = `"${createHash('md5').update(Buffer.concat(listed.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')))).digest('hex')}-${listed.length}"`;
        bucket.set(key, { body, etag, lastModified: new Date() });
        uploads.delete(uploadId);
        return sendXml(res, 200, `<CompleteMultipartUploadResult><Location>/${xmlEscape(bucketName)}/${xmlEscape(key)}</Location>`
          + `<Bucket>${xmlEscape(bucketName)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></CompleteMultipartUploadResult>`);
      }
    }
    if (method === 'PUT') {
      count('PutObject');
      const body = payload(req, raw);
      const etag = etagOf(body);
      const contentType = req.headers['content-type'];
      bucket.set(key, { body, etag, lastModified: new Date(), ...contentType ? { contentType } : {} });
      res.writeHead(200, { 'etag': etag, 'x-amz-request-id': randomUUID(), 'content-length': 0 });
      return res.end();
    }
    if (method === 'GET' || method === 'HEAD') {
      count(method === 'GET' ? 'GetObject' : 'HeadObject');
      const object = bucket.get(key);
      if (object === undefined) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, {
        'etag': object.etag,
        'content-length': object.body.length,
        'last-modified': object.lastModified.toUTCString(),
        'content-type': object.contentType ?? 'binary/octet-stream',
        'x-amz-request-id': randomUUID(),
      });
      return res.end(method === 'GET' ? object.body : undefined);
    }
    return sendError(res, 405, 'MethodNotAllowed', `${method} is not implemented by the stand-in.`);
  };
  const server = await startLoopbackServer((req, res, raw) => {
    handle(req, res, raw);
  }, options.port);

  return {
    ...server,
    buckets,
    uploads,
    calls,
    text: (bucket, key) => buckets.get(bucket)?.get(key)?.body.toString('utf8'),
  };
}
