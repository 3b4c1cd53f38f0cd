/**
 * Loads the native addon once. When it cannot be loaded, one error lists what to do, the way
 * sharp's loader does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DocAnonError, ErrorCode } from '../core/errors';
import { packageRoot } from '../core/package-paths';
import { glibcVersion, prebuiltAddonPath, prebuiltMismatch, readPrebuiltManifest } from './prebuilt';
import type { NativeAddon } from './types';

export { packageRoot };

let cached: NativeAddon | undefined;
let loadedFrom: AddonOrigin | undefined;

/** Which binary the process loaded: the prebuilt one shipped in the package, or one built from source. */
export interface AddonOrigin {
  path: string;
  kind: 'prebuilt' | 'source' | 'env';
}

/**
 * Where the addon is looked for, in order: DOC_ANON_NATIVE (relative to the current directory),
 * the package's own build from source, then the prebuilt addon shipped in the package (used only
 * when it fits: see prebuilt.ts).
 */
export function addonCandidates(): string[] {
  const fromEnv = process.env.DOC_ANON_NATIVE;
  const list = [
    path.join(packageRoot, 'build', 'Release', 'docanon.node'),
    path.join(packageRoot, 'build', 'Debug', 'docanon.node'),
    prebuiltAddonPath(packageRoot),
  ];
  // A relative path means the current directory's, as for any path a user types (require() would
  // take `build/x.node` for a package name).
  return fromEnv ? [path.resolve(fromEnv), ...list] : list;
}

/** The binary this process loaded, or undefined before the first native call. */
export function addonOrigin(): AddonOrigin | undefined {
  return loadedFrom;
}

/** Returns the loaded addon (loading it on first use). Throws ERR_NATIVE_LOAD with fixes. */
export function native(): NativeAddon {
  if (cached) return cached;
  const tried: string[] = [];
  let lastError: unknown;
  const prebuilt = prebuiltAddonPath(packageRoot);
  const candidates = addonCandidates();
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      // A package without a prebuilt addon (a git checkout) need not say so.
      if (file !== prebuilt || readPrebuiltManifest(packageRoot)) tried.push(`${file} (missing)`);
      continue;
    }
    if (file === prebuilt) {
      const why = prebuiltMismatch(packageRoot);
      if (why) {
        tried.push(`${file} (not used: ${why})`);
        continue;
      }
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const addon = require(file) as NativeAddon;
      addon.init(DocAnonError);
      // process.exit() would otherwise wait for every native call still queued behind the running
      // one (Node joins libuv's workers, each waiting on its call). Main thread only: a worker
      // thread's exit must not drop the work of the others.
      // (An addon built before this hook existed has no dropQueuedWork: exit then waits, as it did.)
      if (isMainThread && typeof addon.dropQueuedWork === 'function') process.once('exit', () => addon.dropQueuedWork());
      cached = addon;
      loadedFrom = { path: file, kind: file === prebuilt ? 'prebuilt' : process.env.DOC_ANON_NATIVE && file === candidates[0] ? 'env' : 'source' };
      return addon;
    } catch (e) {
      tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
      lastError = e;
    }
  }
  // A binary built on a newer system names the glibc it needs in its load error.
  const needsGlibc = /GLIBC_(\d+\.\d+)' not found/.exec(tried.join(' '));
  const glibc = needsGlibc ? glibcVersion() : undefined;
  throw new DocAnonError(
    ErrorCode.NATIVE_LOAD,
    [
      'The doc-anon-torch native addon could not be loaded.',
      `Tried: ${tried.join('; ')}.`,
      'Possible fixes:',
      ...(needsGlibc ? [`  - this system's glibc is ${glibc ?? 'unknown'}, the binary needs ${needsGlibc[1]}: build from source (below) or use a newer system`] : []),
      '  - run the install step (again): `npm rebuild doc-anon-torch`; it uses the prebuilt addon when it fits, else builds from source, and says which and why. It did not run if install scripts were skipped (--ignore-scripts, an npm allowScripts policy: `npm install-scripts approve doc-anon-torch`, pnpm without onlyBuiltDependencies)',
      '  - build from source: `DOC_ANON_BUILD_FROM_SOURCE=1 npm rebuild doc-anon-torch`, or `npm run build:native` in a checkout (needs cmake and a C++20 compiler; fetches the pinned libtorch CPU wheel with pip)',
      '  - for CUDA, point the build at an installed PyTorch: `LIBTORCH=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__))") npm rebuild doc-anon-torch`',
      '  - if libtorch was moved or deleted after the build, rebuild (the addon finds libtorch through its rpath)',
      '  - set DOC_ANON_NATIVE to the path of a docanon.node built for this machine',
    ].join('\n'),
    { cause: lastError },
  );
}
