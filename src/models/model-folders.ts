/**
 * Model folders on disk: what one is (`describeModelFolder`), whether it still matches the
 * manifest it came with (`verifyModelFolder`), and the ones the download cache holds
 * (`listCachedModels`: pulls from the Hub and R2 artifacts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { BlobCache, COMPLETE_MARKER } from '../storage/cache';
import { sha256File } from '../storage/hash';
import { MANIFEST_FILE, parseManifest, type Manifest } from '../storage/manifest';

/** One disagreement between a folder and its manifest. */
export interface FolderProblem {
  path: string;
  problem: 'missing' | 'size' | 'sha256' | 'unlisted';
  detail?: string;
}

/** Outcome of {@link verifyModelFolder}. */
export interface FolderVerification {
  dir: string;
  ok: boolean;
  /** Files listed in the manifest and checked. */
  checked: number;
  bytes: number;
  problems: FolderProblem[];
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out;
}

/**
 * Checks every file of `dir` against its `manifest.json` (size and sha256) and reports files the
 * manifest does not list. A folder without a manifest is ERR_NOT_FOUND.
 */
export async function verifyModelFolder(dir: string): Promise<FolderVerification> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} is not a folder`);
  const manifestPath = path.join(root, MANIFEST_FILE);
  if (!fs.existsSync(manifestPath)) {
    throw new DocAnonError(ErrorCode.NOT_FOUND, `${dir} has no ${MANIFEST_FILE}: only folders written by models pull, artifacts pull or a promote carry one.`);
  }
  const manifest: Manifest = parseManifest(fs.readFileSync(manifestPath), manifestPath);
  const problems: FolderProblem[] = [];
  let bytes = 0;
  for (const f of manifest.files) {
    const p = path.join(root, ...f.path.split('/'));
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      problems.push({ path: f.path, problem: 'missing' });
      continue;
    }
    if (st.size !== f.size) {
      problems.push({ path: f.path, problem: 'size', detail: `${st.size} bytes, manifest ${f.size}` });
      continue;
    }
    const got = await sha256File(p);
    bytes += got.size;
    if (got.sha256 !== f.sha256) problems.push({ path: f.path, problem: 'sha256', detail: `${got.sha256}, manifest ${f.sha256}` });
  }
  const listed = new Set([...manifest.files.map((f) => f.path), MANIFEST_FILE, COMPLETE_MARKER]);
  for (const p of filesUnder(root)) if (!listed.has(p)) problems.push({ path: p, problem: 'unlisted' });
  return { dir: root, ok: problems.length === 0, checked: manifest.files.length, bytes, problems };
}

/** What a model folder holds, from its config files. */
export function describeModelFolder(dir: string): string {
  const index = readJson(path.join(dir, 'model_index.json'));
  if (index?._class_name === 'DiffutePipeline') return 'DiffUTE pipeline';
  if (typeof index?._class_name === 'string') return `diffusers pipeline (${index._class_name})`;
  const config = readJson(path.join(dir, 'config.json'));
  if (config?.model_type === 'vision-encoder-decoder') return 'TrOCR (VisionEncoderDecoderModel)';
  if (typeof config?._class_name === 'string') return `diffusers ${config._class_name}`;
  if (typeof config?.architecture === 'string') return `timm ${config.architecture}`;
  if (fs.existsSync(path.join(dir, 'unet')) && fs.existsSync(path.join(dir, 'ema_unet'))) return 'UNet training checkpoint';
  return 'unknown';
}

/** A model folder in the download cache. */
export interface CachedModel {
  /** Where it came from: `hf://owner/name@commit[+variant]` or `r2://bucket/key`. */
  source: string;
  dir: string;
  kind: string;
  files: number;
  bytes: number;
  /** Last use (ISO 8601): eviction removes the least recently used first. */
  lastUsed: string;
}

function summarize(dir: string, source: string): CachedModel | undefined {
  const marker = fs.statSync(path.join(dir, COMPLETE_MARKER), { throwIfNoEntry: false });
  if (!marker) return undefined;
  let manifest: Manifest | undefined;
  try {
    manifest = parseManifest(fs.readFileSync(path.join(dir, MANIFEST_FILE)), dir);
  } catch {
    manifest = undefined;
  }
  return {
    source,
    dir,
    kind: describeModelFolder(dir),
    files: manifest?.files.length ?? 0,
    bytes: manifest?.totalSize ?? 0,
    lastUsed: marker.mtime.toISOString(),
  };
}

function subdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.includes('.tmp-')).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The complete model folders in the cache, most recently used first. */
export function listCachedModels(cache: BlobCache = new BlobCache()): CachedModel[] {
  const out: CachedModel[] = [];
  for (const repo of subdirs(cache.hubDir)) {
    for (const rev of subdirs(path.join(cache.hubDir, repo))) {
      const m = summarize(path.join(cache.hubDir, repo, rev), `hf://${repo.replace('--', '/')}@${rev}`);
      if (m) out.push(m);
    }
  }
  const walk = (rel: string, depth: number): void => {
    if (depth > 40) return;
    const dir = path.join(cache.artifactsDir, rel);
    const m = rel ? summarize(dir, `r2://${rel.split(path.sep).join('/')}`) : undefined;
    if (m) {
      out.push(m);
      return;
    }
    for (const d of subdirs(dir)) walk(rel ? path.join(rel, d) : d, depth + 1);
  };
  walk('', 0);
  return out.sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
}
