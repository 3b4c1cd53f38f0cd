/**
 * Artifacts on the server: a folder of files under `<prefix>/<name>/<version>/`, published by a
 * `manifest.json` written last and create-only. A version without a manifest does not exist for
 * readers. Also: listing versions, the `latest` pointer, retention.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { CLAIMS_DIR, claimVersion, newWriterId, releaseClaim, type ClaimOptions } from './claim';
import { sha256File, stableJsonHash } from './hash';
import { silentLogger, type StorageLogger } from './log';
import { MANIFEST_FILE, MANIFEST_SCHEMA, parseManifest, type Manifest, type ManifestFile, type Provenance } from './manifest';
import type { R2Remote } from './remote';
import { formatR2Uri, parseR2Uri, validateKey, validateSegment } from './uri';

/** Key of the latest pointer inside an artifact folder. */
export const LATEST_FILE = 'latest.json';
const RESERVED_VERSIONS = new Set(['latest', LATEST_FILE]);

/** A folder name under an artifact that can be a version (`latest` and the pointer file are not). */
function isVersionName(name: string): boolean {
  try {
    validateSegment(name, 'version');
    return !RESERVED_VERSIONS.has(name);
  } catch {
    return false;
  }
}

/** An artifact folder: `r2://bucket/<base>` where base = `[prefix/]name`. */
export interface ArtifactLocation {
  bucket: string;
  /** `prefix/name` (no trailing slash). */
  base: string;
  name: string;
}

/** One version of an artifact. */
export interface VersionLocation extends ArtifactLocation {
  version: string;
}

/** Key of the version folder. */
export function versionKey(v: VersionLocation): string {
  return `${v.base}/${v.version}`;
}

/** `r2://bucket/prefix/name/version` of a version. */
export function versionUri(v: VersionLocation): string {
  return formatR2Uri({ bucket: v.bucket, key: versionKey(v) });
}

/** Parses `r2://bucket/[prefix/]name` (an artifact folder). */
export function parseArtifactUri(uri: string): ArtifactLocation {
  const { bucket, key } = parseR2Uri(uri);
  if (key === '') {
    throw new DocAnonError(ErrorCode.ARGUMENT, `${uri} names a bucket, not an artifact: expected r2://bucket/[prefix/]name.`);
  }
  const name = key.slice(key.lastIndexOf('/') + 1);
  validateSegment(name, 'artifact name');
  return { bucket, base: key, name };
}

/** Parses `r2://bucket/[prefix/]name/version` (one version). */
export function parseVersionUri(uri: string): VersionLocation {
  const { bucket, key } = parseR2Uri(uri);
  const i = key.lastIndexOf('/');
  if (i <= 0) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `${uri} does not name a version: expected r2://bucket/[prefix/]name/version.`);
  }
  const version = key.slice(i + 1);
  validateSegment(version, 'version');
  if (RESERVED_VERSIONS.has(version)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `"${version}" is reserved and cannot be used as a version name (in ${uri}).`);
  }
  return { ...parseArtifactUri(formatR2Uri({ bucket, key: key.slice(0, i) })), version };
}

/** Summary of a published version. */
export interface VersionInfo {
  version: string;
  uri: string;
  createdAt: string;
  totalSize: number;
  fileCount: number;
  step?: number;
}

/** Progress of a push. */
export interface PushProgress {
  phase: 'hashing' | 'uploading' | 'publishing' | 'done';
  file?: string;
  bytesDone: number;
  bytesTotal: number;
}

/** Options of a push. */
export interface PushOptions {
  /** The config the artifact was made with (stored in the manifest; its hash goes into provenance). */
  config?: unknown;
  /** Provenance; `gitCommit` is detected from the working directory and `host` filled in when absent. */
  provenance?: Provenance;
  /** Move the `latest` pointer to this version once published (default true). */
  setLatest?: boolean;
  /** After publishing, keep only the newest N versions (and the latest pointer's target). */
  keepLast?: number;
  /** Files uploaded concurrently (default 2; each large file also uploads parts concurrently). */
  fileConcurrency?: number;
  /**
   * Writer id to claim the version with (default: a new random one). Reuse the id of a failed
   * attempt to retry it: its claim may have survived if the server was unreachable.
   */
  writerId?: string;
  /** Version claim tuning (see claim.ts). */
  claim?: ClaimOptions;
  onProgress?: (p: PushProgress) => void;
}

/** What a push published. */
export interface PushResult {
  uri: string;
  location: VersionLocation;
  manifest: Manifest;
  durationMs: number;
}

interface LocalFile {
  path: string;
  abs: string;
}

/** Lists the regular files of a folder (following symlinks), as relative POSIX paths, sorted. */
export async function scanFolder(dir: string): Promise<LocalFile[]> {
  const root = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(root);
  } catch {
    throw new DocAnonError(ErrorCode.NOT_FOUND, `Cannot push ${root}: the folder does not exist.`);
  }
  if (!st.isDirectory()) throw new DocAnonError(ErrorCode.ARGUMENT, `Cannot push ${root}: not a folder.`);
  const out: LocalFile[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    if (depth > 32) throw new DocAnonError(ErrorCode.ARGUMENT, `Folder ${root} is nested too deeply (symlink loop?).`);
    const entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, relPath);
      const s = await fs.promises.stat(abs);
      if (s.isDirectory()) await walk(relPath, depth + 1);
      else if (s.isFile()) {
        // A manifest.json at the top is ours from an earlier pull: it is regenerated, not uploaded.
        if (relPath === MANIFEST_FILE) continue;
        validateKey(relPath, 'file path');
        out.push({ path: relPath, abs });
      } else throw new DocAnonError(ErrorCode.ARGUMENT, `Cannot push ${abs}: not a regular file or folder.`);
    }
  };
  await walk('', 0);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

let gitCommitCache: string | null | undefined;
function detectGitCommit(): string | undefined {
  if (gitCommitCache === undefined) {
    try {
      gitCommitCache = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || null;
    } catch {
      gitCommitCache = null;
    }
  }
  return gitCommitCache ?? undefined;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Artifact operations on the server (no local cache). */
export class RemoteArtifacts {
  readonly remote: R2Remote;
  private readonly log: StorageLogger;

  constructor(remote: R2Remote, logger?: StorageLogger) {
    this.remote = remote;
    this.log = logger ?? silentLogger;
  }

  /**
   * Pushes the files of `dir` as version `r2://bucket/[prefix/]name/version`.
   * Order: hash locally, claim the version, upload files, write the manifest create-only and
   * verify it is ours, then move `latest` and apply retention.
   * @throws DocAnonError ERR_CONFLICT when the version exists or another writer wins it;
   *   ERR_STORAGE when the server fails after retries (nothing is published then).
   */
  async push(dir: string, uri: string, opts: PushOptions = {}): Promise<PushResult> {
    const t0 = Date.now();
    const loc = parseVersionUri(uri);
    const vkey = versionKey(loc);
    const manifestKey = `${vkey}/${MANIFEST_FILE}`;
    const files = await scanFolder(dir);

    // Hash before claiming: a long local step should not hold the version.
    const entries: ManifestFile[] = [];
    let total = 0;
    for (const f of files) {
      opts.onProgress?.({ phase: 'hashing', file: f.path, bytesDone: total, bytesTotal: 0 });
      const { sha256, size } = await sha256File(f.abs);
      entries.push({ path: f.path, size, sha256 });
      total += size;
    }

    if ((await this.remote.headSize(loc.bucket, manifestKey)) !== undefined) {
      throw new DocAnonError(ErrorCode.CONFLICT, `Version ${versionUri(loc)} already exists. Push under a new version.`);
    }
    const writerId = validateSegment(opts.writerId ?? newWriterId(), "writerId");
    await claimVersion(this.remote, loc.bucket, vkey, writerId, versionUri(loc), {
      ...opts.claim,
      published: async () => (await this.remote.headSize(loc.bucket, manifestKey)) !== undefined,
    });
    this.log.info({ uri: versionUri(loc), files: entries.length, bytes: total }, 'storage: pushing artifact');

    let published = false;
    try {
      let done = 0;
      await mapLimit(files, opts.fileConcurrency ?? 2, async (f) => {
        const e = entries.find((x) => x.path === f.path)!;
        opts.onProgress?.({ phase: 'uploading', file: f.path, bytesDone: done, bytesTotal: total });
        await this.remote.uploadFile(loc.bucket, `${vkey}/${f.path}`, f.abs, e.size);
        done += e.size;
      });

      opts.onProgress?.({ phase: 'publishing', bytesDone: done, bytesTotal: total });
      const provenance: Provenance = { ...opts.provenance };
      if (provenance.gitCommit === undefined) {
        const c = detectGitCommit();
        if (c) provenance.gitCommit = c;
      }
      if (provenance.configHash === undefined && opts.config !== undefined) provenance.configHash = stableJsonHash(opts.config);
      provenance.host ??= os.hostname();
      const manifest: Manifest = {
        schema: MANIFEST_SCHEMA,
        name: loc.name,
        version: loc.version,
        createdAt: new Date().toISOString(),
        writerId,
        files: entries,
        totalSize: total,
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        provenance,
      };
      await this.publishManifest(loc, manifest);
      published = true;
      opts.onProgress?.({ phase: 'done', bytesDone: total, bytesTotal: total });

      if (opts.setLatest !== false) await this.updateLatest(loc, manifest);
      if (opts.keepLast !== undefined) await this.applyRetention(loc, opts.keepLast);
      this.log.info({ uri: versionUri(loc), ms: Date.now() - t0 }, 'storage: artifact published');
      return { uri: versionUri(loc), location: loc, manifest, durationMs: Date.now() - t0 };
    } finally {
      // A failed writer withdraws its claim so the version can be pushed again (best effort:
      // when the server is unreachable the claim stays and abandonIncomplete() clears it).
      if (!published) await releaseClaim(this.remote, loc.bucket, vkey, writerId).catch(() => undefined);
    }
  }

  /**
   * Writes the manifest with `If-None-Match: *`, then reads it back and checks the writer id:
   * this detects a lost race on servers that ignore the condition, and accepts our own earlier
   * attempt when a retried PUT meets the 412 of its first, successful try.
   */
  private async publishManifest(loc: VersionLocation, manifest: Manifest): Promise<void> {
    const key = `${versionKey(loc)}/${MANIFEST_FILE}`;
    try {
      await this.remote.putBytes(loc.bucket, key, JSON.stringify(manifest, null, 2), { createOnly: true, contentType: 'application/json' });
    } catch (e) {
      if (!(e instanceof DocAnonError && e.code === ErrorCode.CONFLICT)) throw e;
    }
    const stored = await this.readManifestAt(loc);
    if (!stored || stored.writerId !== manifest.writerId) {
      throw new DocAnonError(ErrorCode.CONFLICT, `Version ${versionUri(loc)} already exists (another writer published it first). Push under a new version.`);
    }
  }

  /** The manifest of a version, or undefined when the version is not published. */
  async readManifestAt(loc: VersionLocation): Promise<Manifest | undefined> {
    const bytes = await this.remote.getBytes(loc.bucket, `${versionKey(loc)}/${MANIFEST_FILE}`);
    return bytes ? parseManifest(bytes, versionUri(loc)) : undefined;
  }

  /** Published versions of `r2://bucket/[prefix/]name`, oldest first. Versions without a manifest are not listed. */
  async listVersions(artifactUri: string | ArtifactLocation): Promise<VersionInfo[]> {
    const art = typeof artifactUri === 'string' ? parseArtifactUri(artifactUri) : artifactUri;
    const candidates = (await this.remote.listChildren(art.bucket, `${art.base}/`)).filter(isVersionName);
    const infos = await mapLimit(candidates, 8, async (version): Promise<VersionInfo | undefined> => {
      const loc = { ...art, version };
      let m: Manifest | undefined;
      try {
        m = await this.readManifestAt(loc);
      } catch (e) {
        if (e instanceof DocAnonError && e.code === ErrorCode.INTEGRITY) {
          this.log.warn({ uri: versionUri(loc), err: e.message }, 'storage: skipping version with a damaged manifest');
          return undefined;
        }
        throw e;
      }
      if (!m) return undefined;
      return {
        version,
        uri: versionUri(loc),
        createdAt: m.createdAt,
        totalSize: m.totalSize,
        fileCount: m.files.length,
        ...(m.provenance.step !== undefined ? { step: m.provenance.step } : {}),
      };
    });
    return infos
      .filter((x): x is VersionInfo => x !== undefined)
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.version < b.version ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  }

  /**
   * Moves `latest` to `loc`, which must be published. Unless `force`, it does not move backwards:
   * if the current target is published and newer (by manifest time), the pointer is left alone
   * (two trainers finishing out of order).
   */
  async updateLatest(loc: VersionLocation, manifest?: Manifest, force = false): Promise<void> {
    const m = manifest ?? (await this.readManifestAt(loc));
    if (!m) throw new DocAnonError(ErrorCode.NOT_FOUND, `Cannot point latest at ${versionUri(loc)}: it has no manifest (not published).`);
    const current = await this.readLatestPointer(loc);
    if (!force && current && current.version !== loc.version && current.createdAt > m.createdAt) {
      const cm = await this.readManifestAt({ ...loc, version: current.version }).catch(() => undefined);
      if (cm) return;
    }
    const body = JSON.stringify({ version: loc.version, createdAt: m.createdAt, step: m.provenance.step ?? null, updatedAt: new Date().toISOString() });
    await this.remote.putBytes(loc.bucket, `${loc.base}/${LATEST_FILE}`, body, { contentType: 'application/json' });
  }

  private async readLatestPointer(art: ArtifactLocation): Promise<{ version: string; createdAt: string } | undefined> {
    const bytes = await this.remote.getBytes(art.bucket, `${art.base}/${LATEST_FILE}`);
    if (!bytes) return undefined;
    try {
      const j = JSON.parse(bytes.toString()) as { version?: unknown; createdAt?: unknown };
      if (typeof j.version !== 'string' || typeof j.createdAt !== 'string') return undefined;
      validateSegment(j.version, 'version');
      return { version: j.version, createdAt: j.createdAt };
    } catch {
      this.log.warn({ uri: formatR2Uri({ bucket: art.bucket, key: art.base }) }, 'storage: ignoring a malformed latest pointer');
      return undefined;
    }
  }

  /**
   * The latest published version: the pointer's target when it has a manifest, else the newest
   * listed version; undefined when nothing is published.
   */
  async latest(artifactUri: string | ArtifactLocation): Promise<VersionLocation | undefined> {
    const art = typeof artifactUri === 'string' ? parseArtifactUri(artifactUri) : artifactUri;
    const p = await this.readLatestPointer(art);
    if (p && (await this.readManifestAt({ ...art, version: p.version }))) return { ...art, version: p.version };
    const all = await this.listVersions(art);
    const last = all[all.length - 1];
    return last ? { ...art, version: last.version } : undefined;
  }

  /**
   * Resolves `r2://bucket/.../name/version`, `.../name/latest` or `.../name` (meaning latest) to a
   * published version and its manifest.
   * @throws DocAnonError ERR_NOT_FOUND when nothing published matches.
   */
  async resolve(uri: string): Promise<{ location: VersionLocation; manifest: Manifest }> {
    const { bucket, key } = parseR2Uri(uri);
    if (key === '') throw new DocAnonError(ErrorCode.ARGUMENT, `${uri} names a bucket, not an artifact.`);
    const segs = key.split('/');
    const last = segs[segs.length - 1];
    if (segs.length >= 2 && last !== 'latest') {
      const loc = { ...parseArtifactUri(formatR2Uri({ bucket, key: segs.slice(0, -1).join('/') })), version: last };
      if (!RESERVED_VERSIONS.has(last)) {
        validateSegment(last, 'version');
        const m = await this.readManifestAt(loc);
        if (m) return { location: loc, manifest: m };
      }
    }
    const baseKey = last === 'latest' ? segs.slice(0, -1).join('/') : key;
    if (baseKey !== '') {
      const art = parseArtifactUri(formatR2Uri({ bucket, key: baseKey }));
      const v = await this.latest(art);
      if (v) {
        const m = await this.readManifestAt(v);
        if (m) return { location: v, manifest: m };
      }
    }
    throw new DocAnonError(
      ErrorCode.NOT_FOUND,
      `No published artifact at ${uri}: no manifest.json there and no published versions under it. ` +
        'Check the URI; a version whose upload did not finish is not visible.',
    );
  }

  /**
   * Keeps the newest `keep` published versions and the latest pointer's target; deletes the
   * others (manifest first, so a half-deleted version is invisible). Unpublished versions are
   * left alone: they may be uploads in progress.
   * @returns the deleted versions.
   */
  async applyRetention(artifactUri: string | ArtifactLocation, keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 1) throw new DocAnonError(ErrorCode.ARGUMENT, `keepLast must be an integer >= 1, got ${keep}.`);
    const art = typeof artifactUri === 'string' ? parseArtifactUri(artifactUri) : artifactUri;
    const versions = await this.listVersions(art);
    const pointer = await this.readLatestPointer(art);
    const keepSet = new Set(versions.slice(-keep).map((v) => v.version));
    if (pointer) keepSet.add(pointer.version);
    const doomed = versions.filter((v) => !keepSet.has(v.version)).map((v) => v.version);
    for (const version of doomed) {
      const vkey = versionKey({ ...art, version });
      await this.remote.delete(art.bucket, `${vkey}/${MANIFEST_FILE}`);
      const rest = (await this.remote.listKeys(art.bucket, `${vkey}/`)).map((k) => k.key);
      await this.remote.deleteMany(art.bucket, rest);
      this.log.info({ uri: versionUri({ ...art, version }) }, 'storage: retention deleted version');
    }
    return doomed;
  }

  /**
   * Removes the leftovers of the unpublished uploads under an artifact: versions that hold a
   * writer's claim but no manifest (what a writer that died mid-upload leaves), and whose name
   * matches `versionPattern` when given. Only call it when no writer is uploading to this artifact,
   * e.g. when the only writer (a training run) restarts. A folder without a claim is never
   * touched (it is not an upload of this protocol: a mistyped artifact URI pointing at a parent
   * folder must not lose other artifacts).
   * @returns the URIs of the versions cleared.
   */
  async abandonAllIncomplete(artifactUri: string, versionPattern?: RegExp): Promise<string[]> {
    const art = parseArtifactUri(artifactUri);
    // From a recursive listing: a delimiter listing can miss a folder that holds only nested keys
    // (a claim under .claims/) on some S3 servers (s3rver); checkpoints are few files each.
    const base = `${art.base}/`;
    const claimed = new Set<string>();
    for (const { key } of await this.remote.listKeys(art.bucket, base)) {
      const [version, dir] = key.slice(base.length).split('/');
      if (dir === CLAIMS_DIR && isVersionName(version) && (!versionPattern || versionPattern.test(version))) claimed.add(version);
    }
    const cleared: string[] = [];
    for (const version of [...claimed].sort()) {
      const loc = { ...art, version };
      if ((await this.remote.headSize(loc.bucket, `${versionKey(loc)}/${MANIFEST_FILE}`)) !== undefined) continue;
      await this.abandonIncomplete(versionUri(loc));
      cleared.push(versionUri(loc));
    }
    return cleared;
  }

  /**
   * Deletes the leftovers of an unpublished version (files and claims of a writer that died).
   * Only call it when no writer is still uploading that version.
   * @throws DocAnonError ERR_CONFLICT when the version is published (use retention to delete it).
   * @returns the number of objects deleted.
   */
  async abandonIncomplete(uri: string): Promise<number> {
    const loc = parseVersionUri(uri);
    const vkey = versionKey(loc);
    if ((await this.remote.headSize(loc.bucket, `${vkey}/${MANIFEST_FILE}`)) !== undefined) {
      throw new DocAnonError(ErrorCode.CONFLICT, `${versionUri(loc)} is published; abandonIncomplete only removes unpublished uploads.`);
    }
    const keys = (await this.remote.listKeys(loc.bucket, `${vkey}/`)).map((k) => k.key);
    await this.remote.deleteMany(loc.bucket, keys);
    return keys.length;
  }
}
