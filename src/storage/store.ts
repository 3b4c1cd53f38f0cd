/**
 * ArtifactStore: the one object the rest of the library uses for R2 — push, pull, list, latest,
 * resolve, background pushes for trainers, and resolveToLocalDir for fromPretrained('r2://...').
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DocAnonError, ErrorCode } from '../core/errors';
import {
  RemoteArtifacts,
  parseVersionUri,
  versionKey,
  versionUri,
  type PushOptions,
  type PushResult,
  type VersionInfo,
  type VersionLocation,
} from './artifacts';
import { BackgroundPusher, type BackgroundOptions, type PushHandle } from './background';
import { BlobCache, COMPLETE_MARKER, type CacheOptions } from './cache';
import { createR2Client, type R2ClientOptions } from './client';
import { silentLogger, type StorageLogger } from './log';
import { MANIFEST_FILE, type Manifest } from './manifest';
import { R2Remote, type UploadProgress } from './remote';
import type { RetryOptions } from './retry';
import { safeLocalPath } from './uri';

/** Options of {@link ArtifactStore}. */
export interface ArtifactStoreOptions {
  /** An S3 client; default: {@link createR2Client} from the environment. */
  client?: S3Client;
  /** Options for the default client (environment, timeouts, SDK attempts). */
  clientOptions?: R2ClientOptions;
  /** A pino-compatible logger (default: silent). */
  logger?: StorageLogger;
  /** The local cache, or options to create one. */
  cache?: BlobCache | CacheOptions;
  /** Retry policy for requests and downloads (default: 4 retries, 200 ms .. 10 s, full jitter). */
  retry?: RetryOptions;
  /** Multipart part size (>= 5 MiB, default 8 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently per file (default 4). */
  queueSize?: number;
  onUploadProgress?: (p: UploadProgress) => void;
  /** Policy of {@link ArtifactStore.pushInBackground}. */
  background?: Omit<BackgroundOptions, 'logger'>;
}

/** Options of {@link ArtifactStore.pull}. */
export interface PullOptions {
  /** Hard-link files from the cache instead of copying (read-only files; falls back to copy across devices). Default false. */
  link?: boolean;
}

/** What {@link ArtifactStore.pull} did. */
export interface PullResult {
  uri: string;
  dir: string;
  manifest: Manifest;
  /** Files that were already in the cache. */
  cacheHits: number;
  /** Bytes transferred from the server. */
  bytesDownloaded: number;
}

/** Places a cached blob at `dest` atomically: a hard link when `link` (and the file system allows it), else a writable copy. */
export async function placeFile(src: string, dest: string, link: boolean): Promise<void> {
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    let linked = false;
    if (link) {
      try {
        await fs.promises.link(src, tmp);
        linked = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw e;
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
      }
    }
    if (!linked) {
      await fs.promises.copyFile(src, tmp);
      await fs.promises.chmod(tmp, 0o644);
    }
    await fs.promises.rename(tmp, dest);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Push, pull and resolve artifacts in R2 (or any S3-compatible server) with a local cache. */
export class ArtifactStore {
  readonly remote: R2Remote;
  readonly artifacts: RemoteArtifacts;
  readonly cache: BlobCache;
  private readonly log: StorageLogger;
  private readonly background: BackgroundPusher;

  /** Creates a store; without `client`, the R2 client is built from the environment (ERR_CONFIG if unset). */
  constructor(opts: ArtifactStoreOptions = {}) {
    this.log = opts.logger ?? silentLogger;
    const client = opts.client ?? createR2Client(opts.clientOptions);
    this.remote = new R2Remote(client, {
      logger: this.log,
      retry: opts.retry,
      partSize: opts.partSize,
      queueSize: opts.queueSize,
      onUploadProgress: opts.onUploadProgress,
    });
    this.artifacts = new RemoteArtifacts(this.remote, this.log);
    this.cache = opts.cache instanceof BlobCache ? opts.cache : new BlobCache({ logger: this.log, retry: opts.retry, ...opts.cache });
    this.background = new BackgroundPusher((d, u, o) => this.push(d, u, o), { ...opts.background, logger: this.log });
  }

  /**
   * Uploads `dir` as `r2://bucket/[prefix/]name/version`; the manifest is written last, create-only.
   * @throws DocAnonError ERR_CONFLICT when the version exists or another writer wins it.
   */
  push(dir: string, uri: string, opts?: PushOptions): Promise<PushResult> {
    return this.artifacts.push(dir, uri, opts);
  }

  /**
   * Queues a push that runs in the background (one at a time), retried on transient failures and
   * reported through the logger and `background.onError`. Do not modify `dir` until the handle settles.
   */
  pushInBackground(dir: string, uri: string, opts?: PushOptions): PushHandle {
    return this.background.enqueue(dir, uri, opts);
  }

  /**
   * Waits for all background pushes (call before exit).
   * @throws DocAnonError ERR_STORAGE when any failed since the last flush.
   */
  flushBackground(): Promise<PushResult[]> {
    return this.background.flush();
  }

  /** Published versions of `r2://bucket/[prefix/]name`, oldest first. */
  listVersions(artifactUri: string): Promise<VersionInfo[]> {
    return this.artifacts.listVersions(artifactUri);
  }

  /** The latest published version's URI, or undefined when none is published. */
  async latest(artifactUri: string): Promise<string | undefined> {
    const v = await this.artifacts.latest(artifactUri);
    return v ? versionUri(v) : undefined;
  }

  /** Points `latest` at a published version (also backwards, e.g. a rollback). @throws ERR_NOT_FOUND when it has no manifest. */
  async setLatest(versionUriStr: string): Promise<void> {
    await this.artifacts.updateLatest(parseVersionUri(versionUriStr), undefined, true);
  }

  /** Resolves a version, `.../latest` or an artifact folder (= latest) to a published version and its manifest. */
  resolve(uri: string): Promise<{ location: VersionLocation; manifest: Manifest }> {
    return this.artifacts.resolve(uri);
  }

  /** Keeps the newest `keep` versions (and latest's target). @returns deleted versions. */
  applyRetention(artifactUri: string, keep: number): Promise<string[]> {
    return this.artifacts.applyRetention(artifactUri, keep);
  }

  /** Removes an unpublished version's leftovers (a dead writer's files and claim). */
  abandonIncomplete(versionUriStr: string): Promise<number> {
    return this.artifacts.abandonIncomplete(versionUriStr);
  }

  /**
   * Removes the leftovers of the unpublished uploads (claimed, no manifest) of an artifact, of
   * versions matching `versionPattern` when given. Only when no writer is uploading to it (a
   * training run's sole writer restarting). @returns the versions cleared.
   */
  abandonAllIncomplete(artifactUri: string, versionPattern?: RegExp): Promise<string[]> {
    return this.artifacts.abandonAllIncomplete(artifactUri, versionPattern);
  }

  private async fetchAll(loc: VersionLocation, manifest: Manifest): Promise<{ paths: Map<string, string>; hits: number; bytes: number }> {
    const paths = new Map<string, string>();
    let hits = 0;
    let bytes = 0;
    const queue = [...manifest.files];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const key = `${versionKey(loc)}/${f.path}`;
        const r = await this.cache.fetch(f.sha256, f.size, (start) => this.remote.getStream(loc.bucket, key, start), `r2://${loc.bucket}/${key}`);
        if (r.hit) hits++;
        bytes += r.bytesDownloaded;
        paths.set(f.path, r.path);
      }
    };
    await Promise.all([worker(), worker()]);
    return { paths, hits, bytes };
  }

  /** Fetches every file into the cache and places them under `dir` (pinned against eviction meanwhile). */
  private async materialize(loc: VersionLocation, manifest: Manifest, dir: string, link: boolean): Promise<{ hits: number; bytes: number }> {
    const unpins = manifest.files.map((f) => this.cache.pin(f.sha256));
    try {
      const { paths, hits, bytes } = await this.fetchAll(loc, manifest);
      for (const f of manifest.files) {
        const dest = safeLocalPath(dir, f.path);
        try {
          await placeFile(paths.get(f.path)!, dest, link);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          // Another process evicted the blob between fetch and link: fetch it again, once.
          const key = `${versionKey(loc)}/${f.path}`;
          const r = await this.cache.fetch(f.sha256, f.size, (start) => this.remote.getStream(loc.bucket, key, start), `r2://${loc.bucket}/${key}`);
          await placeFile(r.path, dest, link);
        }
      }
      await fs.promises.writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
      return { hits, bytes };
    } finally {
      for (const u of unpins) u();
    }
  }

  /**
   * Downloads a published artifact (a version, `.../latest`, or a folder meaning latest) into
   * `dir`, through the cache; every file is verified by sha256 before it is used. The manifest is
   * written to `dir/manifest.json`.
   * @throws DocAnonError ERR_NOT_FOUND when nothing is published there, ERR_INTEGRITY on bad bytes.
   */
  async pull(uri: string, dir: string, opts: PullOptions = {}): Promise<PullResult> {
    const { location, manifest } = await this.artifacts.resolve(uri);
    const out = path.resolve(dir);
    await fs.promises.mkdir(out, { recursive: true });
    const { hits, bytes } = await this.materialize(location, manifest, out, opts.link ?? false);
    this.log.info({ uri: versionUri(location), dir: out, cacheHits: hits, bytes }, 'storage: pulled artifact');
    return { uri: versionUri(location), dir: out, manifest, cacheHits: hits, bytesDownloaded: bytes };
  }

  private localDirFor(loc: VersionLocation): string {
    return safeLocalPath(this.cache.artifactsDir, `${loc.bucket}/${versionKey(loc)}`);
  }

  private async completeFor(dir: string): Promise<string | undefined> {
    try {
      return (JSON.parse(await fs.promises.readFile(path.join(dir, COMPLETE_MARKER), 'utf8')) as { writerId?: string }).writerId;
    } catch {
      return undefined;
    }
  }

  /**
   * Returns a local folder holding the artifact (read-only hard links into the cache), for
   * `fromPretrained('r2://...')`. Reuses a complete earlier copy of the same publication; when the
   * server is unreachable, an explicit version already materialized is used as is.
   */
  async resolveToLocalDir(uri: string): Promise<string> {
    let resolved: { location: VersionLocation; manifest: Manifest };
    try {
      resolved = await this.artifacts.resolve(uri);
    } catch (e) {
      const offline = e instanceof DocAnonError && e.code === ErrorCode.STORAGE;
      if (offline) {
        try {
          const dir = this.localDirFor(parseVersionUri(uri));
          if (await this.completeFor(dir)) {
            this.log.warn({ uri, dir, err: e.message }, 'storage: server unreachable, using the cached copy');
            return dir;
          }
        } catch {
          /* not an explicit version: nothing cached to fall back to */
        }
      }
      throw e;
    }
    const { location, manifest } = resolved;
    const dir = this.localDirFor(location);
    const marker = path.join(dir, COMPLETE_MARKER);
    if ((await this.completeFor(dir)) === manifest.writerId) {
      const now = new Date();
      await fs.promises.utimes(marker, now, now).catch(() => undefined);
      return dir;
    }
    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    const unpinDir = this.cache.pin(dir);
    const unpinTmp = this.cache.pin(tmp);
    try {
      await fs.promises.mkdir(tmp, { recursive: true });
      await this.materialize(location, manifest, tmp, true);
      await fs.promises.writeFile(path.join(tmp, COMPLETE_MARKER), JSON.stringify({ writerId: manifest.writerId, uri: versionUri(location) }));
      if ((await this.completeFor(dir)) === manifest.writerId) return dir; // another process finished first
      await fs.promises.rm(dir, { recursive: true, force: true }); // an older publication or a broken copy
      try {
        await fs.promises.rename(tmp, dir);
      } catch (e) {
        if ((await this.completeFor(dir)) !== manifest.writerId) throw e;
      }
      return dir;
    } finally {
      await fs.promises.rm(tmp, { recursive: true, force: true });
      unpinTmp();
      unpinDir();
    }
  }

  /** Releases the HTTP connections. Background pushes still queued should be flushed first. */
  close(): void {
    this.remote.client.destroy();
  }
}
