/**
 * The local download cache: content-addressed blobs (`blobs/<sha256>`), verified before they
 * enter the cache, downloaded into `tmp/<sha256>.part` and renamed, resumed with Range requests,
 * guarded by per-blob lock files across processes, and bounded in size with LRU eviction (by
 * mtime, which every use refreshes; atime is unreliable under noatime mounts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DocAnonError, ErrorCode } from '../core/errors';
import { sha256File } from './hash';
import { acquireLock, type LockOptions } from './lock';
import { silentLogger, type StorageLogger } from './log';
import type { RangeStream } from './remote';
import { withRetry, type RetryOptions } from './retry';

/** Marker file written last into a materialized artifact folder inside the cache. */
export const COMPLETE_MARKER = '.doc-anon-complete';

/** Opens the remote bytes of a blob from byte `start`. */
export type RangeOpener = (start: number) => Promise<RangeStream>;

/** Options of {@link BlobCache}. */
export interface CacheOptions {
  /** Cache folder (default `$DOC_ANON_CACHE` (or its older name `$DOC_ANON_CACHE_DIR`), else `$XDG_CACHE_HOME/doc-anon-torch`, else `~/.cache/doc-anon-torch`). */
  root?: string;
  /** Size bound in bytes (default `$DOC_ANON_CACHE_MAX_BYTES`, else 50 GiB). */
  maxBytes?: number;
  logger?: StorageLogger;
  lock?: LockOptions;
  /** Retry policy for downloads (each retry resumes from the bytes already on disk). */
  retry?: RetryOptions;
}

/** Outcome of {@link BlobCache.fetch}. */
export interface FetchResult {
  /** Path of the verified blob (read-only). */
  path: string;
  /** True when the blob was already cached. */
  hit: boolean;
  /** Bytes already on disk from an earlier, interrupted download when this one started. */
  resumedFrom: number;
  /** Bytes transferred by this call. */
  bytesDownloaded: number;
}

const SHA_RE = /^[0-9a-f]{64}$/;

/** The default cache folder. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOC_ANON_CACHE || env.DOC_ANON_CACHE_DIR;
  if (dir) return path.resolve(dir);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'doc-anon-torch');
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    const st = await fs.promises.stat(p);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

async function touch(p: string): Promise<void> {
  const now = new Date();
  await fs.promises.utimes(p, now, now).catch(() => undefined);
}

interface Candidate {
  id: string;
  kind: 'blob' | 'dir';
  path: string;
  lastUsed: number;
  inodes: { ino: string; size: number }[];
}

/** A size-bounded, content-addressed, multi-process-safe cache of verified blobs. */
export class BlobCache {
  readonly root: string;
  readonly maxBytes: number;
  readonly blobsDir: string;
  readonly tmpDir: string;
  readonly locksDir: string;
  /** Where {@link ArtifactStore.resolveToLocalDir} materializes artifacts (hard links to blobs). */
  readonly artifactsDir: string;
  /** Models pulled from the Hugging Face Hub: `hub/<owner>--<name>/<commit>[+variant]/`. */
  readonly hubDir: string;
  private readonly log: StorageLogger;
  private readonly opts: CacheOptions;
  /** Blobs and folders in use by this process: never evicted. */
  private readonly pins = new Map<string, number>();

  constructor(opts: CacheOptions = {}) {
    this.opts = opts;
    this.root = path.resolve(opts.root ?? defaultCacheRoot());
    const envMax = Number(process.env.DOC_ANON_CACHE_MAX_BYTES);
    this.maxBytes = opts.maxBytes ?? (Number.isFinite(envMax) && envMax > 0 ? envMax : 50 * 1024 ** 3);
    this.blobsDir = path.join(this.root, 'blobs');
    this.tmpDir = path.join(this.root, 'tmp');
    this.locksDir = path.join(this.root, 'locks');
    this.artifactsDir = path.join(this.root, 'artifacts');
    this.hubDir = path.join(this.root, 'hub');
    this.log = opts.logger ?? silentLogger;
  }

  private async ensureDirs(): Promise<void> {
    for (const d of [this.blobsDir, this.tmpDir, this.locksDir, this.artifactsDir, this.hubDir]) await fs.promises.mkdir(d, { recursive: true });
  }

  /** Path a blob has (or would have) in the cache. */
  blobPath(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new DocAnonError(ErrorCode.ARGUMENT, `Not a sha256 digest: ${JSON.stringify(sha256)}.`);
    return path.join(this.blobsDir, sha256);
  }

  /** Marks an id (a sha256 or a folder path) as in use so eviction skips it; returns the unpin function. */
  pin(id: string): () => void {
    this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.pins.get(id) ?? 1) - 1;
      if (n <= 0) this.pins.delete(id);
      else this.pins.set(id, n);
    };
  }

  /** True when the blob is cached with the expected size (and refreshes its LRU time). */
  async has(sha256: string, size: number): Promise<boolean> {
    const p = this.blobPath(sha256);
    if ((await sizeOf(p)) !== size) return false;
    await touch(p);
    return true;
  }

  /**
   * Returns the cached blob, downloading it first when missing: resumes a partial download,
   * verifies size and sha256, then renames it into place. Concurrent fetches of the same blob
   * (threads or processes) download it once.
   * @throws DocAnonError ERR_INTEGRITY when the downloaded bytes do not match (nothing is kept);
   *   ERR_STORAGE / ERR_NOT_FOUND from the server.
   */
  async fetch(sha256: string, size: number, open: RangeOpener, label = sha256): Promise<FetchResult> {
    const final = this.blobPath(sha256);
    const unpin = this.pin(sha256);
    try {
      if (await this.has(sha256, size)) return { path: final, hit: true, resumedFrom: 0, bytesDownloaded: 0 };
      await this.ensureDirs();
      const lock = await acquireLock(path.join(this.locksDir, `${sha256}.lock`), this.opts.lock);
      let result: FetchResult;
      try {
        if (await this.has(sha256, size)) return { path: final, hit: true, resumedFrom: 0, bytesDownloaded: 0 };
        await fs.promises.rm(final, { force: true }); // wrong size: damaged, replace it
        result = await this.download(sha256, size, open, label, final);
      } finally {
        await lock.release();
      }
      await this.evict().catch((e) => this.log.warn({ err: String(e) }, 'storage: cache eviction failed'));
      return result;
    } finally {
      unpin();
    }
  }

  private async download(sha256: string, size: number, open: RangeOpener, label: string, final: string): Promise<FetchResult> {
    const tmp = path.join(this.tmpDir, `${sha256}.part`);
    let have = (await sizeOf(tmp)) ?? 0;
    if (have > size) {
      await fs.promises.rm(tmp, { force: true });
      have = 0;
    }
    const resumedFrom = have;
    let downloaded = 0;
    const attempt = async (): Promise<void> => {
      let start = (await sizeOf(tmp)) ?? 0;
      if (size === 0) await fs.promises.writeFile(tmp, '');
      if (start >= size) return;
      const rs = await open(start);
      if (rs.start !== start) {
        if (rs.start !== 0) {
          rs.stream.destroy();
          throw new DocAnonError(ErrorCode.STORAGE, `The server answered a Range request for ${label} from byte ${rs.start} instead of ${start}.`);
        }
        start = 0; // the server ignored Range: start over
      }
      let written = start;
      const bound = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          downloaded += chunk.length;
          if (written > size) cb(new DocAnonError(ErrorCode.INTEGRITY, `${label} is larger on the server than its manifest says (${size} bytes).`));
          else cb(null, chunk);
        },
      });
      await pipeline(rs.stream, bound, fs.createWriteStream(tmp, { flags: start > 0 ? 'a' : 'w' }));
    };
    try {
      await withRetry(attempt, {
        ...this.opts.retry,
        onRetry: (err, n, delayMs) =>
          this.log.warn({ blob: label, attempt: n, delayMs, err: String((err as Error)?.message ?? err) }, 'storage: download interrupted, resuming'),
      });
    } catch (e) {
      // Bad bytes are not worth resuming from; a network failure keeps the partial file.
      if (e instanceof DocAnonError && e.code === ErrorCode.INTEGRITY) await fs.promises.rm(tmp, { force: true });
      throw e;
    }

    const got = await sha256File(tmp);
    if (got.size !== size || got.sha256 !== sha256) {
      await fs.promises.rm(tmp, { force: true });
      throw new DocAnonError(
        ErrorCode.INTEGRITY,
        `Downloaded ${label} does not match its manifest (sha256 ${got.sha256.slice(0, 12)}…, ${got.size} bytes; expected ${sha256.slice(0, 12)}…, ${size} bytes). ` +
          'The object on the server is damaged or was replaced; it was not used. Push the artifact again.',
      );
    }
    // Read-only, because blobs are hard-linked into materialized folders: an in-place write there
    // would corrupt the cache.
    await fs.promises.chmod(tmp, 0o444);
    await fs.promises.rename(tmp, final);
    await touch(final);
    this.log.debug({ blob: label, bytes: downloaded, resumedFrom }, 'storage: blob cached');
    return { path: final, hit: false, resumedFrom, bytesDownloaded: downloaded };
  }

  private async candidates(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const inode = (st: fs.Stats): string => `${st.dev}:${st.ino}`;
    for (const name of await fs.promises.readdir(this.blobsDir).catch(() => [] as string[])) {
      if (!SHA_RE.test(name)) continue;
      const p = path.join(this.blobsDir, name);
      const st = await fs.promises.stat(p).catch(() => undefined);
      if (st?.isFile()) out.push({ id: name, kind: 'blob', path: p, lastUsed: st.mtimeMs, inodes: [{ ino: inode(st), size: st.size }] });
    }
    const walkFiles = async (dir: string, acc: { ino: string; size: number }[]): Promise<void> => {
      for (const e of await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walkFiles(p, acc);
        else if (e.isFile()) {
          const st = await fs.promises.stat(p).catch(() => undefined);
          if (st) acc.push({ ino: inode(st), size: st.size });
        }
      }
    };
    const findDirs = async (dir: string, depth: number): Promise<void> => {
      if (depth > 40) return;
      const marker = await fs.promises.stat(path.join(dir, COMPLETE_MARKER)).catch(() => undefined);
      if (marker) {
        const inodes: { ino: string; size: number }[] = [];
        await walkFiles(dir, inodes);
        out.push({ id: dir, kind: 'dir', path: dir, lastUsed: marker.mtimeMs, inodes });
        return;
      }
      for (const e of await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) await findDirs(path.join(dir, e.name), depth + 1);
      }
    };
    await findDirs(this.artifactsDir, 0);
    await findDirs(this.hubDir, 0);
    return out;
  }

  /** Bytes the cache holds (each hard-linked file counted once). */
  async usage(): Promise<number> {
    const seen = new Map<string, number>();
    for (const c of await this.candidates()) for (const i of c.inodes) seen.set(i.ino, i.size);
    let total = 0;
    for (const s of seen.values()) total += s;
    return total;
  }

  /**
   * Evicts least recently used blobs and materialized folders until the cache fits `maxBytes`
   * (or `targetBytes`). Items pinned by this process are kept. A file hard-linked from several
   * places is freed only when all of them are gone.
   */
  async evict(targetBytes = this.maxBytes): Promise<{ removed: string[]; freedBytes: number; usedBytes: number }> {
    const cands = await this.candidates();
    const refs = new Map<string, { size: number; n: number }>();
    for (const c of cands) for (const i of c.inodes) {
      const r = refs.get(i.ino);
      if (r) r.n++;
      else refs.set(i.ino, { size: i.size, n: 1 });
    }
    let total = 0;
    for (const r of refs.values()) total += r.size;
    const removed: string[] = [];
    let freed = 0;
    if (total <= targetBytes) return { removed, freedBytes: 0, usedBytes: total };
    cands.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const c of cands) {
      if (total - freed <= targetBytes) break;
      if (this.pins.has(c.id)) continue;
      // Skip a blob whose download lock is held (another process is using it right now).
      if (c.kind === 'blob' && fs.existsSync(path.join(this.locksDir, `${c.id}.lock`))) continue;
      await fs.promises.rm(c.path, { recursive: true, force: true });
      removed.push(c.kind === 'blob' ? c.id : path.relative(this.root, c.path));
      for (const i of c.inodes) {
        const r = refs.get(i.ino)!;
        if (--r.n === 0) freed += r.size;
      }
    }
    if (total - freed > targetBytes) {
      this.log.warn({ usedBytes: total - freed, maxBytes: targetBytes }, 'storage: cache is over its size bound (items in use were kept)');
    }
    if (removed.length) this.log.info({ removed: removed.length, freedBytes: freed }, 'storage: cache evicted');
    return { removed, freedBytes: freed, usedBytes: total - freed };
  }
}
