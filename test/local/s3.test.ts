/**
 * The S3 stand-in through the real SDK client, configured only by its endpoint (as the handler's is, with
 * `AWS_ENDPOINT_URL_S3`): single and multipart writes, aborts, reads and listings, and the errors S3 gives.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3Server, decodeAwsChunked, startS3Server } from '../../local/servers/s3';

let server: S3Server;
let s3: S3Client;

beforeAll(async () => {
  server = await startS3Server({ buckets: ['results'] });
  s3 = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
});
afterAll(async () => {
  s3.destroy();
  await server.close();
});

test('PutObject, GetObject and ListObjectsV2, path-style on 127.0.0.1', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'results', Key: 'a/one.jsonl', Body: Buffer.from('{"a":1}\n'), ContentType: 'application/x-ndjson' }));
  await s3.send(new PutObjectCommand({ Bucket: 'results', Key: 'b/two.csv', Body: 'x\r\n' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'results', Key: 'a/one.jsonl' }));
  expect(await got.Body!.transformToString()).toBe('{"a":1}\n');
  expect(got.ContentType).toBe('application/x-ndjson');
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: 'a/' }));
  expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['a/one.jsonl', 8]]);
});

test('a multipart upload: parts joined in order; a part under 5 MiB but the last is refused (EntityTooSmall)', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'results', Key: 'big.jsonl' }));
  const first = Buffer.alloc(5 * 1024 * 1024, 'a');
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'big.jsonl', UploadId, PartNumber: 1, Body: first }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'big.jsonl', UploadId, PartNumber: 2, Body: Buffer.from('tail') }));
  await s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'results', Key: 'big.jsonl', UploadId, MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }, { ETag: p2.ETag, PartNumber: 2 }] },
  }));
  const text = server.text('results', 'big.jsonl')!;
  expect(text.length).toBe(first.length + 4);
  expect(text.endsWith('atail')).toBe(true);

  const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'results', Key: 'small.jsonl' }));
  const s1 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'small.jsonl', UploadId: small.UploadId, PartNumber: 1, Body: 'x' }));
  const s2 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'small.jsonl', UploadId: small.UploadId, PartNumber: 2, Body: 'y' }));
  await expect(s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'results', Key: 'small.jsonl', UploadId: small.UploadId, MultipartUpload: { Parts: [{ ETag: s1.ETag, PartNumber: 1 }, { ETag: s2.ETag, PartNumber: 2 }] },
  }))).rejects.toMatchObject({ name: 'EntityTooSmall' });
});

test('an aborted upload leaves nothing; its parts are refused afterwards (NoSuchUpload)', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'results', Key: 'gone.jsonl' }));
  await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'gone.jsonl', UploadId, PartNumber: 1, Body: 'x' }));
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'results', Key: 'gone.jsonl', UploadId }));
  expect(server.uploads.has(UploadId!)).toBe(false);
  expect(server.buckets.get('results')!.has('gone.jsonl')).toBe(false);
  await expect(s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'gone.jsonl', UploadId, PartNumber: 2, Body: 'y' })))
    .rejects.toMatchObject({ name: 'NoSuchUpload' });
});

test('unknown buckets and keys: NoSuchBucket, NoSuchKey', async () => {
  await expect(s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
  await expect(s3.send(new GetObjectCommand({ Bucket: 'results', Key: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
});

test('aws-chunked bodies are decoded (chunk extensions and trailers dropped)', () => {
  const body = Buffer.from('5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n');
  expect(decodeAwsChunked(body).toString()).toBe('hello world');
});
