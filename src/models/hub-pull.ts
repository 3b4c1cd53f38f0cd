/**
 * `doc-anon models pull`: a model's files from the Hugging Face Hub, through `@huggingface/hub`
 * (no HTTP of our own), into the package's download cache. Only the files this package loads are
 * fetched (configs and safetensors; the fp16 variant when asked). Every file is verified by sha256
 * before it enters the cache: the pinned value for a pinned known model, else the Hub's LFS
 * pointer; small non-LFS files (configs) of an unpinned model are hashed as downloaded and the
 * result is recorded. An interrupted download resumes with a Range request. The pulled folder
 * (`<cache>/hub/<owner>--<name>/<commit>[+fp16]/`) is hard links into the cache's blobs plus a
 * `manifest.json` that `models verify` checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadFile, fileDownloadInfo, listFiles, modelInfo, type FileDownloadInfoOutput } from '@huggingface/hub';
import { DocAnonError, ErrorCode, isDocAnonError } from '../core/errors';
import { BlobCache, COMPLETE_MARKER, type RangeOpener } from '../storage/cache';
import { MANIFEST_FILE, MANIFEST_SCHEMA, type Manifest, type ManifestFile } from '../storage/manifest';
import type { RangeStream } from '../storage/remote';
import type { RetryOptions } from '../storage/retry';
import { placeFile } from '../storage/store';
import { COMMIT_RE, type HubPin, type PullSpec } from './hub-registry';

/** The public Hub. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
/** Non-LFS files of an unpinned model are read into memory to be hashed; larger ones are refused. */
const MAX_UNHASHED_BYTES = 32 * 1024 * 1024;

/** Where and as whom the Hub is reached. */
export interface HubAccess {
  /** Hub address (default `$HF_ENDPOINT`, else https://huggingface.co): a mirror or a test server. */
  endpoint?: string;
  /** Access token for gated or private repositories (default `$HF_TOKEN`). Never logged. */
  token?: string;
  /** fetch implementation (default the global one). */
  fetch?: typeof fetch;
}

/** {@link HubAccess} from the environment. */
export function hubAccessFromEnv(env: NodeJS.ProcessEnv = process.env): HubAccess {
  return { endpoint: env.HF_ENDPOINT || undefined, token: env.HF_TOKEN || undefined };
}

/** One file a pull will fetch. */
export interface PlannedFile {
  path: string;
  size: number;
  /** The sha256 it must have: the pin's, else the Hub's LFS pointer; absent for an unpinned non-LFS file. */
  sha256?: string;
}

/** What a pull will fetch, known before any weights are downloaded. */
export interface PullPlan {
  repo: string;
  /** The revision asked for. */
  revision: string;
  /** The commit it resolved to. */
  commit: string;
  /** Whether the commit and every sha256 came from the package's pins. */
  pinned: boolean;
  variant?: 'fp16';
  files: PlannedFile[];
  totalBytes: number;
}

/** Progress of a pull: after each chunk of each file. */
export interface PullProgress {
  file: string;
  fileBytes: number;
  fileSize: number;
  /** Bytes of the whole pull done (cache hits count as done). */
  doneBytes: number;
  totalBytes: number;
}

/** Options of {@link pullModel}. */
export interface PullOptions extends HubAccess {
  /** Take `*.fp16.safetensors` where the repository has them. */
  variant?: 'fp16';
  /** Also place the files in this folder (copies, with `manifest.json`). */
  out?: string;
  /** The download cache (default: the package's, {@link BlobCache}). */
  cache?: BlobCache;
  retry?: RetryOptions;
  /** Called once with the plan, before anything large is downloaded; throw to stop. */
  onPlan?: (plan: PullPlan) => void | Promise<void>;
  onProgress?: (p: PullProgress) => void;
}

/** Outcome of {@link pullModel}. */
export interface PullResult {
  /** The pulled folder in the cache (read-only hard links). */
  dir: string;
  /** `out` when given. */
  out?: string;
  plan: PullPlan;
  manifest: Manifest;
  /** Files that were already in the cache. */
  cacheHits: number;
  bytesDownloaded: number;
  /** Files whose download resumed from an earlier, interrupted one. */
  resumed: number;
}

interface HubEntry {
  path: string;
  size: number;
  lfsSha256?: string;
}

/** Turns a failure of the Hub client into a coded error. Tokens are never part of the message. */
function hubError(what: string, e: unknown): DocAnonError {
  if (isDocAnonError(e)) return e;
  const status = (e as { statusCode?: number }).statusCode;
  const message = String((e as Error)?.message ?? e).replace(/hf_[A-Za-z0-9]+/g, 'hf_***');
  if (status === 401 || status === 403) {
    return new DocAnonError(ErrorCode.UNAUTHORIZED, `${what}: the Hub refused access (HTTP ${status}). The repository is gated or private: accept its terms on the Hub and set HF_TOKEN.`);
  }
  if (status === 404) return new DocAnonError(ErrorCode.NOT_FOUND, `${what}: not found on the Hub (no such repository, revision or file).`);
  const out = new DocAnonError(ErrorCode.STORAGE, `${what}: ${status ? `HTTP ${status}` : 'the Hub could not be reached'} (${message}). Check the network or HF_ENDPOINT, and run the pull again: it resumes.`, { cause: e });
  (out as DocAnonError & { transient?: boolean }).transient = status === undefined || status >= 500 || status === 429;
  return out;
}

function clientParams(access: HubAccess): { hubUrl: string; accessToken?: string; fetch?: typeof fetch } {
  if (access.token !== undefined && !access.token.startsWith('hf_')) {
    throw new DocAnonError(ErrorCode.CONFIG, 'HF_TOKEN is not a Hugging Face access token (they start with "hf_").');
  }
  const hubUrl = (access.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(hubUrl)) throw new DocAnonError(ErrorCode.CONFIG, `HF_ENDPOINT "${hubUrl}" is not an http(s) address`);
  return { hubUrl, accessToken: access.token, fetch: access.fetch };
}

/** `*` matches within one path segment. */
function patternRe(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
}

const FP16 = /\.fp16\.safetensors$/;

/**
 * The files of a repository this package loads. Known model: its patterns (a missing one is
 * ERR_NOT_FOUND). Any other repository: every `.json` and `.safetensors`. In both, `x.safetensors`
 * and `x.fp16.safetensors` are one file: the fp16 one with `variant: 'fp16'` when present, the
 * full one otherwise (fp16 only when it is all there is).
 */
export function selectFiles(entries: readonly HubEntry[], spec: PullSpec, variant?: 'fp16'): HubEntry[] {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const pick = (p: string): HubEntry | undefined => {
    if (!p.endsWith('.safetensors') || FP16.test(p)) return byPath.get(p);
    const half = byPath.get(p.replace(/\.safetensors$/, '.fp16.safetensors'));
    const full = byPath.get(p);
    return variant === 'fp16' ? (half ?? full) : (full ?? half);
  };
  const chosen = new Map<string, HubEntry>();
  if (spec.known) {
    const missing: string[] = [];
    const take = (patterns: readonly string[]): boolean => {
      let all = true;
      for (const pattern of patterns) {
        const re = patternRe(pattern);
        const hits = pattern.includes('*') ? entries.filter((e) => re.test(e.path) && !FP16.test(e.path)).map((e) => pick(e.path)) : [pick(pattern)];
        const found = hits.filter((h): h is HubEntry => h !== undefined);
        if (found.length === 0) {
          all = false;
          missing.push(pattern);
        }
        for (const h of found) chosen.set(h.path, h);
      }
      return all;
    };
    if (!take(spec.known.files) && spec.known.fallbackFiles) {
      const weightsMissing = missing.every((m) => m.endsWith('.safetensors'));
      if (weightsMissing) {
        missing.length = 0;
        take(spec.known.fallbackFiles);
      }
    }
    if (missing.length > 0) {
      throw new DocAnonError(ErrorCode.NOT_FOUND, `${spec.repo}@${spec.revision} lacks ${missing.join(', ')}: the repository changed its layout; pull a pinned revision or report it.`);
    }
  } else {
    for (const e of entries) {
      if (e.path.endsWith('.json')) chosen.set(e.path, e);
      else if (e.path.endsWith('.safetensors')) {
        const h = pick(e.path.replace(FP16, '.safetensors'));
        if (h) chosen.set(h.path, h);
      }
    }
    if (![...chosen.keys()].some((p) => p.endsWith('.safetensors'))) {
      throw new DocAnonError(ErrorCode.NOT_FOUND, `${spec.repo}@${spec.revision} has no .safetensors weights; this package loads safetensors (convert .bin / .pth files with doc-anon models convert).`);
    }
  }
  return [...chosen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Resolves the revision to a commit and lists what will be fetched. Downloads nothing large. */
export async function planPull(spec: PullSpec, opts: HubAccess & { variant?: 'fp16' } = {}): Promise<PullPlan> {
  const client = clientParams(opts);
  let commit: string;
  try {
    const info = await modelInfo({ name: spec.repo, revision: spec.revision, additionalFields: ['sha'], ...client });
    commit = String((info as { sha?: unknown }).sha ?? '');
  } catch (e) {
    throw hubError(`${spec.repo}@${spec.revision}`, e);
  }
  if (!COMMIT_RE.test(commit)) throw new DocAnonError(ErrorCode.STORAGE, `The Hub answered no commit id for ${spec.repo}@${spec.revision}.`);
  if (COMMIT_RE.test(spec.revision) && commit !== spec.revision) {
    throw new DocAnonError(ErrorCode.INTEGRITY, `${spec.repo}@${spec.revision} resolved to another commit (${commit}); refusing it.`);
  }
  const entries: HubEntry[] = [];
  try {
    for await (const e of listFiles({ repo: spec.repo, revision: commit, recursive: true, ...client })) {
      if (e.type === 'file') entries.push({ path: e.path, size: e.lfs?.size ?? e.size, lfsSha256: e.lfs?.oid });
    }
  } catch (e) {
    throw hubError(`${spec.repo}@${commit}`, e);
  }
  const files: PlannedFile[] = selectFiles(entries, spec, opts.variant).map((e) => {
    if (e.path.split('/').some((s) => s === '..' || s === '.' || s === '') || e.path.includes('\\') || e.path === MANIFEST_FILE) {
      throw new DocAnonError(ErrorCode.UNSAFE_KEY, `The Hub listed an unsafe file path in ${spec.repo}: ${JSON.stringify(e.path)}`);
    }
    const pinned = spec.pin?.files[e.path];
    if (spec.pin && !pinned) throw new DocAnonError(ErrorCode.INTEGRITY, `${spec.repo}@${commit}: ${e.path} is not in the pin; the pin is incomplete, refusing the pull.`);
    if (pinned && (pinned.size !== e.size || (e.lfsSha256 !== undefined && e.lfsSha256 !== pinned.sha256))) {
      throw new DocAnonError(ErrorCode.INTEGRITY, `${spec.repo}@${commit}: the Hub lists ${e.path} with another size or sha256 than its pin; refusing it.`);
    }
    return { path: e.path, size: e.size, sha256: pinned?.sha256 ?? e.lfsSha256 };
  });
  return { repo: spec.repo, revision: spec.revision, commit, pinned: spec.pin !== undefined, variant: opts.variant, files, totalBytes: files.reduce((s, f) => s + f.size, 0) };
}

/** A RangeOpener reading `file` from the Hub through the client's lazily fetched blob. */
function hubOpener(spec: PullSpec, commit: string, file: PlannedFile, access: HubAccess, onBytes: (n: number) => void): RangeOpener {
  const client = clientParams(access);
  let info: FileDownloadInfoOutput | null | undefined;
  const what = `${spec.repo}@${commit.slice(0, 12)}/${file.path}`;
  return async (start: number): Promise<RangeStream> => {
    try {
      info ??= await fileDownloadInfo({ repo: spec.repo, path: file.path, revision: commit, ...client });
    } catch (e) {
      throw hubError(what, e);
    }
    if (!info) throw new DocAnonError(ErrorCode.NOT_FOUND, `${what}: not found on the Hub.`);
    if (info.size !== file.size) throw new DocAnonError(ErrorCode.INTEGRITY, `${what}: the Hub serves ${info.size} bytes, its listing said ${file.size}; refusing it.`);
    let answered!: (r: Response) => void;
    let failed!: (e: unknown) => void;
    const response = new Promise<Response>((res, rej) => ((answered = res), (failed = rej)));
    const baseFetch = client.fetch ?? fetch;
    const watched: typeof fetch = (input, init) =>
      baseFetch(input, init).then(
        (r) => (answered(r), r),
        (e) => (failed(e), Promise.reject(e)),
      );
    const blob = await downloadFile({ repo: spec.repo, path: file.path, revision: commit, hubUrl: client.hubUrl, accessToken: client.accessToken, fetch: watched, xet: false, downloadInfo: info });
    if (!blob) throw new DocAnonError(ErrorCode.NOT_FOUND, `${what}: not found on the Hub.`);
    const web = (start > 0 ? blob.slice(start) : blob).stream() as unknown as WebReadableStream<Uint8Array>;
    let r: Response;
    try {
      r = await response;
    } catch (e) {
      throw hubError(what, e);
    }
    if (!r.ok) {
      await web.cancel().catch(() => undefined);
      throw hubError(what, Object.assign(new Error(`HTTP ${r.status}`), { statusCode: r.status }));
    }
    const range = /^bytes (\d+)-/.exec(r.headers.get('content-range') ?? '');
    const delivered = r.status === 206 && range ? Number(range[1]) : 0;
    // Any failure mid-body (a cut connection) is worth resuming from.
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        onBytes(chunk.length);
        cb(null, chunk);
      },
    });
    const body = Readable.fromWeb(web);
    body.on('error', (e) => {
      const err = new DocAnonError(ErrorCode.STORAGE, `${what}: the transfer was cut (${String((e as Error)?.message ?? e)}); it resumes.`);
      (err as DocAnonError & { transient?: boolean }).transient = true;
      counted.destroy(err);
    });
    body.pipe(counted);
    return { stream: counted, start: delivered, total: file.size };
  };
}

/** A non-LFS file (a config) read whole, for hashing: the Hub lists no sha256 for it. */
async function readSmallFile(repo: string, f: PlannedFile, open: RangeOpener): Promise<Buffer> {
  if (f.size > MAX_UNHASHED_BYTES) throw new DocAnonError(ErrorCode.INTEGRITY, `${repo}: ${f.path} (${f.size} bytes) is not in LFS, so the Hub gives no sha256 for it; refusing to fetch it unverified.`);
  const rs = await open(0);
  const chunks: Buffer[] = [];
  for await (const c of rs.stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  if (rs.start !== 0 || bytes.length !== f.size) throw new DocAnonError(ErrorCode.INTEGRITY, `${repo}: ${f.path} came as ${bytes.length} bytes, listed as ${f.size}; refusing it.`);
  return bytes;
}

/**
 * Takes the pin of a known model (scripts/pin-hub-models.ts, on a machine that reaches the Hub):
 * the commit `spec.revision` names now and the sha256 of every file we load, from the Hub's LFS
 * pointers and by hashing the small files. No weights are downloaded.
 */
export async function pinModel(spec: PullSpec, access: HubAccess = {}): Promise<HubPin> {
  const plan = await planPull({ ...spec, pin: undefined }, access);
  // Both variants are pinned, so `pull --variant fp16` of a pinned model is checked too.
  const half = await planPull({ ...spec, revision: plan.commit, pin: undefined }, { ...access, variant: 'fp16' });
  const all = new Map([...plan.files, ...half.files].map((f) => [f.path, f]));
  const files: HubPin['files'] = {};
  for (const f of [...all.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    const sha256 = f.sha256 ?? createHash('sha256').update(await readSmallFile(plan.repo, f, hubOpener(spec, plan.commit, f, access, () => undefined))).digest('hex');
    files[f.path] = { size: f.size, sha256 };
  }
  return { revision: plan.commit, pinnedAt: new Date().toISOString(), files };
}

function folderName(repo: string, commit: string, variant?: string): string {
  return `${repo.replace('/', '--')}/${commit}${variant ? `+${variant}` : ''}`;
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await fs.promises.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/**
 * Pulls a model (see the file comment). Says what it will fetch through `onPlan` first; a file
 * already in the cache is not fetched again; an interrupted file resumes.
 * @throws DocAnonError ERR_INTEGRITY (a file that does not match its sha256: removed, nothing
 *   placed), ERR_UNAUTHORIZED (gated: set HF_TOKEN), ERR_NOT_FOUND, ERR_STORAGE (unreachable).
 */
export async function pullModel(spec: PullSpec, opts: PullOptions = {}): Promise<PullResult> {
  const plan = await planPull(spec, opts);
  await opts.onPlan?.(plan);
  const cache = opts.cache ?? new BlobCache({ retry: opts.retry });
  const dir = path.join(cache.hubDir, folderName(plan.repo, plan.commit, plan.variant));
  let doneBytes = 0;
  let bytesDownloaded = 0;
  let cacheHits = 0;
  let resumed = 0;
  const files: ManifestFile[] = [];
  const unpins: (() => void)[] = [cache.pin(dir)];
  try {
    for (const f of plan.files) {
      const base = doneBytes;
      let fileBytes = 0;
      const onBytes = (n: number): void => {
        fileBytes += n;
        opts.onProgress?.({ file: f.path, fileBytes, fileSize: f.size, doneBytes: base + fileBytes, totalBytes: plan.totalBytes });
      };
      let open = hubOpener(spec, plan.commit, f, opts, onBytes);
      let sha256 = f.sha256;
      if (sha256 === undefined) {
        // An unpinned non-LFS file (a config): read it whole, hash it, record the hash.
        const bytes = await readSmallFile(plan.repo, f, open);
        sha256 = createHash('sha256').update(bytes).digest('hex');
        open = async () => ({ stream: Readable.from([bytes]), start: 0, total: bytes.length });
      }
      unpins.push(cache.pin(sha256));
      let resumedFile = false;
      const opener = open;
      const r = await cache.fetch(sha256, f.size, (start) => ((resumedFile ||= start > 0), opener(start)), `${plan.repo}/${f.path}`);
      if (r.hit) cacheHits++;
      if (resumedFile) resumed++;
      bytesDownloaded += f.sha256 === undefined ? f.size : r.bytesDownloaded;
      doneBytes = base + f.size;
      opts.onProgress?.({ file: f.path, fileBytes: f.size, fileSize: f.size, doneBytes, totalBytes: plan.totalBytes });
      files.push({ path: f.path, size: f.size, sha256 });
    }
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      name: plan.repo,
      version: plan.commit,
      createdAt: new Date().toISOString(),
      writerId: randomBytes(8).toString('hex'),
      files,
      totalSize: plan.totalBytes,
      provenance: { source: 'huggingface', endpoint: clientParams(opts).hubUrl, repo: plan.repo, revision: plan.revision, commit: plan.commit, pinned: plan.pinned, ...(plan.variant ? { variant: plan.variant } : {}) },
    };
    const existing = await readManifest(dir);
    const same = existing && JSON.stringify(existing.files) === JSON.stringify(files) && fs.existsSync(path.join(dir, COMPLETE_MARKER));
    if (!same) await materialize(cache, files, manifest, dir);
    let out: string | undefined;
    if (opts.out) {
      out = path.resolve(opts.out);
      for (const f of files) await placeFile(cache.blobPath(f.sha256), path.join(out, ...f.path.split('/')), false);
      await fs.promises.writeFile(path.join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    }
    return { dir, out, plan, manifest: same ? existing : manifest, cacheHits, bytesDownloaded, resumed };
  } finally {
    for (const u of unpins) u();
  }
}

/** Links the blobs into a fresh folder beside `dir`, then renames it into place. */
async function materialize(cache: BlobCache, files: readonly ManifestFile[], manifest: Manifest, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  const unpin = cache.pin(tmp);
  try {
    for (const f of files) await placeFile(cache.blobPath(f.sha256), path.join(tmp, ...f.path.split('/')), true);
    await fs.promises.writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    await fs.promises.writeFile(path.join(tmp, COMPLETE_MARKER), JSON.stringify({ writerId: manifest.writerId, source: `hf://${manifest.name}@${manifest.version}` }));
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.mkdir(path.dirname(dir), { recursive: true });
    await fs.promises.rename(tmp, dir);
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    unpin();
  }
}
