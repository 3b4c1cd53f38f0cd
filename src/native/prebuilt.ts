/**
 * The prebuilt addon that `npm pack` puts into the package, and whether it fits this machine.
 *
 * `prebuilt/` has the layout of `build/` (`Release/docanon.node`, `docanon_harness`), so the
 * binaries' relative rpath finds the package's `.libtorch/` from either folder. It is built
 * against one libtorch, the wheel pinned in scripts/libtorch-pin.json; setup-libtorch.sh records in
 * `.libtorch/source.json` which wheel it unpacked, and the prebuilt addon is used only when that is
 * the same wheel (same sha256). scripts/install.cjs (npm's install step) and the loader both ask
 * {@link prebuiltMismatch}; this file loads nothing else, so the install step can require it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What `prebuilt/manifest.json` records about the prebuilt binaries. */
export interface PrebuiltManifest {
  /** `process.platform` and `process.arch` it was built for. */
  platform: string;
  arch: string;
  /** The Node-API version it was compiled for (NAPI_VERSION): any Node with at least this one loads it. */
  napi: number;
  /** The newest GLIBC symbol version it needs. */
  glibc: string;
  /** The libtorch wheel it was linked against. */
  libtorch: LibtorchSource;
  /** Whether it was built with the gloo headers (CPU data-parallel training). */
  gloo: boolean;
  /** sha256 of each binary, by path relative to prebuilt/. */
  files: Record<string, string>;
}

/** Which wheel a libtorch folder was unpacked from (`.libtorch/source.json`). */
export interface LibtorchSource {
  version: string;
  wheel: string;
  sha256: string;
}

/** The folder of the prebuilt binaries inside the package. */
export function prebuiltDir(root: string): string {
  return path.join(root, 'prebuilt');
}

/** The prebuilt addon's path inside the package. */
export function prebuiltAddonPath(root: string): string {
  return path.join(prebuiltDir(root), 'Release', 'docanon.node');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isSource(v: unknown): v is LibtorchSource {
  const o = v as Record<string, unknown> | undefined;
  return !!o && typeof o.version === 'string' && typeof o.wheel === 'string' && typeof o.sha256 === 'string';
}

/** The manifest of the package's prebuilt binaries, or undefined when there are none (a git checkout). */
export function readPrebuiltManifest(root: string): PrebuiltManifest | undefined {
  const m = readJson(path.join(prebuiltDir(root), 'manifest.json')) as PrebuiltManifest | undefined;
  return m && typeof m.platform === 'string' && typeof m.napi === 'number' && isSource(m.libtorch) ? m : undefined;
}

/** Which wheel the package's `.libtorch/` came from, or undefined when it is absent or unrecorded. */
export function readLibtorchSource(root: string): LibtorchSource | undefined {
  const s = readJson(path.join(root, '.libtorch', 'source.json'));
  return isSource(s) ? s : undefined;
}

/** The C library's glibc version (e.g. "2.36"), or undefined on musl and other systems. */
export function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  // The report's header has the runtime glibc; leaving out the network part keeps it quick.
  const report = process.report as (typeof process.report & { excludeNetwork?: boolean }) | undefined;
  if (!report) return undefined;
  const saved = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return header?.glibcVersionRuntime;
  } finally {
    report.excludeNetwork = saved;
  }
}

/** a < b for dotted versions ("2.34" < "2.36"). */
export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** What {@link prebuiltMismatch} compares against: this process, unless a test says otherwise. */
export interface PrebuiltHost {
  platform: string;
  arch: string;
  napi: number;
  /** undefined: not a glibc system. */
  glibc: string | undefined;
}

/** This process's platform, architecture, Node-API version and glibc. */
export function currentHost(): PrebuiltHost {
  return { platform: process.platform, arch: process.arch, napi: Number(process.versions.napi ?? 0), glibc: glibcVersion() };
}

/**
 * Why the package's prebuilt addon cannot be used here, or undefined when it fits: it exists, it
 * was built for this platform and architecture, this Node has its Node-API version, the C library
 * is new enough and (unless `checkLibtorch` is false, as before libtorch is fetched) `.libtorch/`
 * is the wheel it was linked against.
 */
export function prebuiltMismatch(root: string, options: { checkLibtorch?: boolean; host?: PrebuiltHost } = {}): string | undefined {
  const m = readPrebuiltManifest(root);
  if (!m) return 'this copy of the package has no prebuilt addon (prebuilt/manifest.json: only published packages have one)';
  if (!fs.existsSync(prebuiltAddonPath(root))) return `the prebuilt addon ${prebuiltAddonPath(root)} is missing`;
  const host = options.host ?? currentHost();
  if (host.platform !== m.platform || host.arch !== m.arch) {
    return `the prebuilt addon is for ${m.platform}-${m.arch}, this is ${host.platform}-${host.arch}`;
  }
  if (host.napi < m.napi) return `the prebuilt addon needs Node-API ${m.napi}, this Node (${process.version}) has ${host.napi}`;
  if (m.platform === 'linux') {
    if (host.glibc === undefined) return `the prebuilt addon needs glibc >= ${m.glibc}, and this system has no glibc (musl?)`;
    if (versionLess(host.glibc, m.glibc)) return `the prebuilt addon needs glibc >= ${m.glibc}, this system has ${host.glibc}`;
  }
  if (options.checkLibtorch === false) return undefined;
  const have = readLibtorchSource(root);
  if (!have) {
    return fs.existsSync(path.join(root, '.libtorch'))
      ? `.libtorch/ does not record which wheel it came from (no .libtorch/source.json), the prebuilt addon needs ${m.libtorch.wheel}`
      : `.libtorch/ is missing (the prebuilt addon needs libtorch ${m.libtorch.version}: run \`npm rebuild doc-anon-torch\` to fetch it)`;
  }
  if (have.sha256 !== m.libtorch.sha256) {
    return `the prebuilt addon was linked against ${m.libtorch.wheel} (sha256 ${m.libtorch.sha256.slice(0, 12)}...), .libtorch/ holds ${have.wheel} (sha256 ${have.sha256.slice(0, 12)}...)`;
  }
  return undefined;
}
