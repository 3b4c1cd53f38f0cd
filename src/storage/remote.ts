/**
 * Object operations on one S3-compatible endpoint, with retries, error mapping (stable codes,
 * secrets redacted) and multipart uploads of equal part sizes. Higher layers (artifacts, cache)
 * only talk to the server through this class.
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DocAnonError, ErrorCode } from '../core/errors';
import { redactSecrets } from './client';
import { silentLogger, type StorageLogger } from './log';
import { isTransientError, withRetry, type RetryOptions } from './retry';

/** S3's smallest multipart part (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part count. */
export const MAX_PARTS = 10_000;

/** Progress of one file upload. */
export interface UploadProgress {
  bucket: string;
  key: string;
  loaded: number;
  total: number;
}

/** Options of {@link R2Remote}. */
export interface RemoteOptions {
  logger?: StorageLogger;
  /** Retry policy for every request (network errors, 5xx, 429). */
  retry?: RetryOptions;
  /** Multipart part size in bytes (>= 5 MiB; default 8 MiB; raised for files over 10000 parts). */
  partSize?: number;
  /** Parts uploaded concurrently per file (default 4). Memory use is about partSize * queueSize. */
  queueSize?: number;
  /** Called as upload bytes are acknowledged. */
  onUploadProgress?: (p: UploadProgress) => void;
}

/** A body stream positioned at `start`, as the server actually delivered it. */
export interface RangeStream {
  stream: Readable;
  /** First byte of the stream (0 when the server ignored the Range header). */
  start: number;
  /** Whole object size when known. */
  total?: number;
}

type SdkError = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };

/** True for "no such key" answers (HEAD gives a bare 404 named NotFound). */
export function isNotFound(e: unknown): boolean {
  const err = e as SdkError;
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
}

/** True when a conditional write lost (412 Precondition Failed, or R2's 409 for concurrent conditional writes). */
export function isPreconditionFailed(e: unknown): boolean {
  const err = e as SdkError;
  const s = err?.$metadata?.httpStatusCode;
  return s === 412 || err?.name === 'PreconditionFailed' || (s === 409 && err?.name === 'ConditionalRequestConflict');
}

/** Wraps an SDK failure in a DocAnonError with a stable code; `transient` says whether retrying later may help. */
export function storageError(op: string, bucket: string, key: string, e: unknown): DocAnonError {
  if (e instanceof DocAnonError) return e;
  const err = e as SdkError & { code?: string };
  const status = err?.$metadata?.httpStatusCode;
  const detail = redactSecrets(`${err?.name ?? 'Error'}${err?.code ? ` ${err.code}` : ''}${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(e)}`);
  const notFound = isNotFound(e);
  let hint = 'Check R2_ENDPOINT / R2_ACCOUNT_ID, the credentials, the network, and that the bucket exists.';
  if (status === 403) hint = 'Check that the R2 API token has read/write access to this bucket.';
  if (notFound) hint = 'Check the URI.';
  const out = new DocAnonError(
    notFound ? ErrorCode.NOT_FOUND : ErrorCode.STORAGE,
    `${op} r2://${bucket}/${key} failed: ${detail}. ${hint}`,
    { cause: e },
  );
  (out as DocAnonError & { transient?: boolean }).transient = isTransientError(e);
  return out;
}

/** Part size for a file: the configured size, raised (in whole MiB) so the file fits in 10000 parts. */
export function choosePartSize(fileSize: number, configured = 8 * 1024 * 1024): number {
  const mib = 1024 * 1024;
  let part = Math.max(MIN_PART_SIZE, configured);
  if (Math.ceil(fileSize / part) > MAX_PARTS) part = Math.ceil(fileSize / MAX_PARTS / mib) * mib;
  return part;
}

/** Object operations with retries against one client. */
export class R2Remote {
  readonly client: S3Client;
  private readonly log: StorageLogger;
  private readonly opts: RemoteOptions;

  constructor(client: S3Client, opts: RemoteOptions = {}) {
    this.client = client;
    this.opts = opts;
    this.log = opts.logger ?? silentLogger;
  }

  private retry<T>(op: string, bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      ...this.opts.retry,
      onRetry: (err, attempt, delayMs) => {
        this.log.warn({ op, bucket, key, attempt, delayMs, err: redactSecrets(String((err as Error)?.message ?? err)) }, 'storage: retrying');
        this.opts.retry?.onRetry?.(err, attempt, delayMs);
      },
    });
  }

  /** Size of an object, or undefined when it does not exist. */
  async headSize(bucket: string, key: string): Promise<number | undefined> {
    try {
      const r = await this.retry('HEAD', bucket, key, () => this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      return r.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw storageError('HEAD', bucket, key, e);
    }
  }

  /** Whole object as bytes (for small objects: manifests, pointers), or undefined when absent. */
  async getBytes(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      return await this.retry('GET', bucket, key, async () => {
        const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await r.Body!.transformToByteArray());
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw storageError('GET', bucket, key, e);
    }
  }

  /**
   * Writes a small object. With `createOnly` it sends `If-None-Match: *`, and a server that
   * refuses (412) raises ERR_CONFLICT. Servers that ignore the header overwrite: callers that
   * need create-only semantics must also verify (see artifacts.ts).
   */
  async putBytes(bucket: string, key: string, body: Buffer | string, opts: { createOnly?: boolean; contentType?: string } = {}): Promise<void> {
    try {
      await this.retry('PUT', bucket, key, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: opts.contentType ?? 'application/octet-stream',
            ...(opts.createOnly ? { IfNoneMatch: '*' } : {}),
          }),
        ),
      );
    } catch (e) {
      if (opts.createOnly && isPreconditionFailed(e)) {
        throw new DocAnonError(ErrorCode.CONFLICT, `r2://${bucket}/${key} already exists (create-only write refused).`, { cause: e });
      }
      throw storageError('PUT', bucket, key, e);
    }
  }

  /** Deletes one object (absent objects are fine). */
  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.retry('DELETE', bucket, key, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    } catch (e) {
      if (isNotFound(e)) return;
      throw storageError('DELETE', bucket, key, e);
    }
  }

  /** Deletes many objects, a few at a time, in the given order of batches. */
  async deleteMany(bucket: string, keys: string[], concurrency = 8): Promise<void> {
    for (let i = 0; i < keys.length; i += concurrency) {
      await Promise.all(keys.slice(i, i + concurrency).map((k) => this.delete(bucket, k)));
    }
  }

  private async list(bucket: string, prefix: string, delimiter?: string): Promise<{ keys: { key: string; size: number }[]; prefixes: string[] }> {
    const keys: { key: string; size: number }[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.retry('LIST', bucket, prefix, () =>
          this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token })),
        );
        for (const o of r.Contents ?? []) if (o.Key) keys.push({ key: o.Key, size: o.Size ?? 0 });
        for (const p of r.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw storageError('LIST', bucket, prefix, e);
    }
    return { keys, prefixes };
  }

  /** All keys under `prefix` (recursive) with sizes. */
  async listKeys(bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
    return (await this.list(bucket, prefix)).keys;
  }

  /** Immediate child "folders" of `prefix` (which should end with `/`), as names without slashes. */
  async listChildren(bucket: string, prefix: string): Promise<string[]> {
    const { prefixes } = await this.list(bucket, prefix, '/');
    return prefixes.map((p) => p.slice(prefix.length).replace(/\/$/, '')).filter((p) => p !== '');
  }

  /**
   * Uploads a local file: one PUT below the part size, else a multipart upload with equal parts
   * (>= 5 MiB), bounded concurrency, and the multipart upload aborted on failure. The whole file
   * is retried on transient errors; the stored size is checked afterwards.
   */
  async uploadFile(bucket: string, key: string, filePath: string, size: number): Promise<void> {
    const partSize = choosePartSize(size, this.opts.partSize);
    const queueSize = Math.max(1, this.opts.queueSize ?? 4);
    try {
      await this.retry('UPLOAD', bucket, key, async () => {
        const body = fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 });
        const upload = new Upload({
          client: this.client,
          params: { Bucket: bucket, Key: key, Body: body, ContentLength: size },
          partSize,
          queueSize,
          leavePartsOnError: false,
        });
        upload.on('httpUploadProgress', (p) =>
          this.opts.onUploadProgress?.({ bucket, key, loaded: p.loaded ?? 0, total: p.total ?? size }),
        );
        try {
          await upload.done();
        } finally {
          body.destroy();
        }
      });
    } catch (e) {
      throw storageError('UPLOAD', bucket, key, e);
    }
    const stored = await this.headSize(bucket, key);
    if (stored !== size) {
      throw new DocAnonError(
        ErrorCode.INTEGRITY,
        `Upload of r2://${bucket}/${key} stored ${stored ?? 'nothing'} bytes, expected ${size}. Was the local file changed during the upload? Retry the push.`,
      );
    }
  }

  /** Opens an object for reading from byte `start` (Range request when start > 0). */
  async getStream(bucket: string, key: string, start: number): Promise<RangeStream> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }),
      );
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(r.ContentRange ?? '');
      const actualStart = m ? Number(m[1]) : 0;
      const total = m && m[3] !== '*' ? Number(m[3]) : r.ContentLength;
      return { stream: r.Body as Readable, start: actualStart, total };
    } catch (e) {
      throw storageError('GET', bucket, key, e);
    }
  }
}
