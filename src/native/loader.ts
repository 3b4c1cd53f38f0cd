/**
 * Loads the native addon once. When it cannot be loaded, one error lists what to do, the way
 * sharp's loader does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DocAnonError, ErrorCode } from '../core/errors';
import { packageRoot } from '../core/package-paths';
import type { NativeAddon } from './types';

export { packageRoot };

let cached: NativeAddon | undefined;

/** Where the addon is looked for, in order: DOC_ANON_NATIVE (relative to the current directory), then the package's build. */
export function addonCandidates(): string[] {
  const fromEnv = process.env.DOC_ANON_NATIVE;
  const list = [
    path.join(packageRoot, 'build', 'Release', 'docanon.node'),
    path.join(packageRoot, 'build', 'Debug', 'docanon.node'),
  ];
  // A relative path means the current directory's, as for any path a user types (require() would
  // take `build/x.node` for a package name).
  return fromEnv ? [path.resolve(fromEnv), ...list] : list;
}

/** Returns the loaded addon (loading it on first use). Throws ERR_NATIVE_LOAD with fixes. */
export function native(): NativeAddon {
  if (cached) return cached;
  const tried: string[] = [];
  let lastError: unknown;
  for (const file of addonCandidates()) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
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
      return addon;
    } catch (e) {
      tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
      lastError = e;
    }
  }
  throw new DocAnonError(
    ErrorCode.NATIVE_LOAD,
    [
      'The doc-anon-torch native addon could not be loaded.',
      `Tried: ${tried.join('; ')}.`,
      'Possible fixes:',
      '  - build it: `npm run build:native` (needs cmake and a C++20 compiler; fetches the pinned libtorch CPU wheel with pip on first use)',
      '  - for CUDA, point the build at an installed PyTorch: `LIBTORCH=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__))") npm run build:native`',
      '  - if libtorch was moved or deleted after the build, rebuild (the addon finds libtorch through its rpath)',
      '  - set DOC_ANON_NATIVE to the path of a prebuilt docanon.node',
    ].join('\n'),
    { cause: lastError },
  );
}
