#!/usr/bin/env node
/*
 * npm's install step for doc-anon-torch (package.json "install"; `npm rebuild doc-anon-torch` runs
 * it again). It never leaves a half-working package behind silently:
 *   - on a platform nobody builds or tests it on, it stops with what would be needed (README,
 *     "Platforms"), not with a compiler error half an hour in;
 *   - when the package carries a prebuilt addon that fits (Linux x64, glibc, Node-API, and no
 *     LIBTORCH or other libtorch asked for), it only fetches the pinned libtorch wheel, verifies its
 *     sha256, unpacks it into .libtorch/ and checks that the prebuilt addon loads;
 *   - otherwise it builds from source (scripts/build-native.sh) and says why.
 * Env: DOC_ANON_SKIP_NATIVE=1 (nothing native), DOC_ANON_BUILD_FROM_SOURCE=1 (never the prebuilt;
 * also lets a source build be tried on an untested platform), LIBTORCH (build against that
 * libtorch, e.g. a CUDA PyTorch), and those of scripts/setup-libtorch.sh.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const log = (msg) => process.stderr.write(`[doc-anon-torch] ${msg}\n`);

/** Built and tested: Linux x64 (CPU; CUDA through LIBTORCH). What the others would take is in the README. */
const UNTESTED = {
  darwin: 'macOS is not built or tested. It would take a macOS libtorch (LIBTORCH; the pinned wheel is Linux-only), the rpath written as @loader_path in CMakeLists.txt, and a CI machine to test on.',
  win32: 'Windows is not built or tested. It would take a port of the build scripts (bash) to Node, MSVC support in CMakeLists.txt (flags, the rpath has no Windows equivalent: libtorch DLLs beside the addon), and a CI machine to test on.',
  linux: 'Linux on this CPU architecture is not built or tested (Linux arm64 would take an aarch64 libtorch: LIBTORCH, or a pinned aarch64 wheel, and a CI machine to test on).',
};

function run(cmd, args, { quiet = false } = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
  if (r.error) log(`could not run ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

/** Loads the prebuilt addon in a child process and makes a tensor: the same dlopen the library will do. */
function prebuiltLoads(addon) {
  const script = `const a = require(${JSON.stringify(addon)}); a.init(class E extends Error {}); if (a.TensorHandle.zeros({ shape: [3] }).toTypedArray().length !== 3) process.exit(3);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return { ok: true };
  const text = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').find((l) => /error|not found|cannot/i.test(l));
  return { ok: false, error: text ?? `exit status ${r.status}` };
}

/** Why the prebuilt addon is not even considered, before anything is fetched (undefined: it is). */
function reasonToBuild(prebuilt) {
  const env = process.env;
  if (env.DOC_ANON_BUILD_FROM_SOURCE === '1') return 'DOC_ANON_BUILD_FROM_SOURCE=1';
  if (env.LIBTORCH) return `LIBTORCH is set (${env.LIBTORCH}): the prebuilt addon is linked against the pinned CPU libtorch only`;
  const pin = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'libtorch-pin.json'), 'utf8'));
  if (env.DOC_ANON_TORCH_VERSION && env.DOC_ANON_TORCH_VERSION !== pin.version) {
    return `DOC_ANON_TORCH_VERSION=${env.DOC_ANON_TORCH_VERSION} is not the pinned ${pin.version} the prebuilt addon is linked against`;
  }
  if (fs.existsSync(path.join(root, '.git'))) return 'this is a git checkout (the prebuilt addon is made by npm pack, for the published package)';
  if (!prebuilt) return 'the TypeScript build (lib/) is missing, so the prebuilt addon cannot be checked';
  return prebuilt.prebuiltMismatch(root, { checkLibtorch: false });
}

function main() {
  if (process.env.DOC_ANON_SKIP_NATIVE === '1') {
    log('DOC_ANON_SKIP_NATIVE=1: no native addon installed (the library will fail with ERR_NATIVE_LOAD until `npm rebuild doc-anon-torch`)');
    return 0;
  }
  const forced = process.env.DOC_ANON_BUILD_FROM_SOURCE === '1';
  if (!(process.platform === 'linux' && process.arch === 'x64')) {
    const what = UNTESTED[process.platform] ?? `${process.platform} is not built or tested.`;
    if (!forced) {
      log(`${process.platform}-${process.arch} is not a supported platform: doc-anon-torch is built and tested on Linux x64 only.`);
      log(what);
      log('To try a source build anyway (untested): DOC_ANON_BUILD_FROM_SOURCE=1 LIBTORCH=/path/to/libtorch npm rebuild doc-anon-torch');
      return 1;
    }
    log(`${process.platform}-${process.arch}: untested platform, trying a source build because DOC_ANON_BUILD_FROM_SOURCE=1. ${what}`);
  }

  let prebuilt;
  try {
    prebuilt = require(path.join(root, 'lib', 'native', 'prebuilt.js'));
  } catch {
    prebuilt = undefined;
  }
  let reason = reasonToBuild(prebuilt);
  if (!reason) {
    log('the prebuilt addon fits this machine: fetching only its libtorch');
    // Its stdout is only the chosen root; what it does goes to stderr.
    if (run('bash', [path.join('scripts', 'setup-libtorch.sh')], { quiet: true }) !== 0) return 1;
    reason = prebuilt.prebuiltMismatch(root);
    if (!reason) {
      const addon = prebuilt.prebuiltAddonPath(root);
      const loaded = prebuiltLoads(addon);
      if (loaded.ok) {
        log(`ok: using the prebuilt addon ${path.relative(root, addon)} (libtorch ${prebuilt.readLibtorchSource(root).version}, sha256-verified)`);
        return 0;
      }
      reason = `the prebuilt addon does not load here (${loaded.error})`;
    }
  }
  log(`building from source: ${reason}`);
  log('(needs cmake >= 3.18 and a C++20 compiler; about 6 minutes on 2 cores)');
  return run('bash', [path.join('scripts', 'build-native.sh')]);
}

process.exitCode = main();
