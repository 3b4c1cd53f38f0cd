/**
 * scripts/setup-libtorch.sh unpacks only the pinned wheel's bytes: a local copy, a cached copy or
 * what pip serves under the pinned name is refused unless its sha256 is the pinned one, and then
 * nothing is unpacked or cached. pip runs with no index and a find-links folder of fakes: no network.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/core/package-paths';

const pin = JSON.parse(fs.readFileSync(path.join(packageRoot, 'scripts', 'libtorch-pin.json'), 'utf8')) as { wheel: string; sha256: string; version: string };

let dir: string;
let root: string;
let fakes: string;
let cache: string;

function fakeWheel(file: string): void {
  // Just enough of a wheel for pip to hand it over: the pinned name, other bytes.
  const py = `import zipfile, sys
z = zipfile.ZipFile(sys.argv[1], 'w')
z.writestr('torch/lib/libtorch_cpu.so', 'not libtorch')
z.writestr('torch-${pin.version}.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: torch\\nVersion: ${pin.version}\\n')
z.writestr('torch-${pin.version}.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: false\\nTag: cp311-cp311-manylinux_2_28_x86_64\\n')
z.writestr('torch-${pin.version}.dist-info/RECORD', '')
z.close()`;
  const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

function setup(extraEnv: NodeJS.ProcessEnv): { status: number | null; err: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PIP_') || k === 'LIBTORCH' || k.startsWith('DOC_ANON_')) delete env[k];
  Object.assign(env, { PIP_CONFIG_FILE: os.devNull, PIP_NO_INDEX: '1', PIP_FIND_LINKS: fakes, DOC_ANON_CACHE_DIR: cache }, extraEnv);
  const r = spawnSync('bash', [path.join(root, 'scripts', 'setup-libtorch.sh')], { encoding: 'utf8', env });
  return { status: r.status, err: r.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-setup-libtorch-'));
  root = path.join(dir, 'pkg');
  fakes = path.join(dir, 'fakes');
  cache = path.join(dir, 'cache');
  fs.mkdirSync(path.join(root, 'scripts'), { recursive: true });
  fs.mkdirSync(fakes);
  for (const f of ['setup-libtorch.sh', 'libtorch-pin.json']) fs.copyFileSync(path.join(packageRoot, 'scripts', f), path.join(root, 'scripts', f));
  fakeWheel(path.join(fakes, pin.wheel));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const nothingUnpacked = (): void => {
  expect(fs.existsSync(path.join(root, '.libtorch'))).toBe(false);
  expect(fs.existsSync(path.join(root, '.libtorch.partial'))).toBe(false);
};

describe('setup-libtorch.sh and the pinned wheel', () => {
  it('refuses a local wheel (DOC_ANON_LIBTORCH_WHEEL) with other bytes', () => {
    const r = setup({ DOC_ANON_LIBTORCH_WHEEL: path.join(fakes, pin.wheel) });
    expect(r.status).toBe(1);
    expect(r.err).toContain(`is not ${pin.wheel} (sha256 ${pin.sha256})`);
    nothingUnpacked();
  });

  it('refuses what pip serves under the pinned name when the bytes differ, and caches nothing', () => {
    const r = setup({});
    expect(r.status).toBe(1);
    expect(r.err).toMatch(new RegExp(`REFUSED: .* from pip has sha256 [0-9a-f]{64}, the pin is ${pin.sha256}\\. Nothing was unpacked\\.`));
    nothingUnpacked();
    expect(fs.existsSync(path.join(cache, 'libtorch', pin.wheel))).toBe(false);
  });

  it('does not trust a cached wheel: a bad cached copy is passed over for pip (which is checked again)', () => {
    fs.mkdirSync(path.join(cache, 'libtorch'), { recursive: true });
    fs.copyFileSync(path.join(fakes, pin.wheel), path.join(cache, 'libtorch', pin.wheel));
    const r = setup({});
    expect(r.err).not.toMatch(/using the cached/);
    expect(r.err).toMatch(/fetching .* with pip/);
    expect(r.status).toBe(1);
    nothingUnpacked();
  });

  it('says what to do when python3 has no pip (as in Debian without python3-pip)', () => {
    const bin = path.join(dir, 'nopip');
    fs.mkdirSync(bin, { recursive: true });
    const real = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
    fs.writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\nif [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "No module named pip" >&2; exit 1; fi\nexec ${real} "$@"\n`, { mode: 0o755 });
    const r = setup({ PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` });
    expect(r.status).toBe(1);
    expect(r.err).toContain('python3 has no pip to fetch');
    expect(r.err).toContain(`DOC_ANON_LIBTORCH_WHEEL=/path/to/${pin.wheel}`);
    nothingUnpacked();
  });

  it("after a miss in pip's own index, PyTorch's CPU index is added, unless DOC_ANON_PIP_ARGS chose the index", () => {
    fs.rmSync(path.join(fakes, pin.wheel));
    try {
      // PIP_NO_INDEX keeps pip off every index, the added one too: nothing leaves the machine.
      const fallback = setup({});
      expect(fallback.status).toBe(1);
      expect(fallback.err).toContain("pip's configured index has no torch==2.13.0+cpu: trying again with https://download.pytorch.org/whl/cpu added");
      expect(fallback.err).toContain('DOC_ANON_LIBTORCH_WHEEL=/path/to/');
      const chosen = setup({ DOC_ANON_PIP_ARGS: '--no-index' });
      expect(chosen.status).toBe(1);
      expect(chosen.err).toContain("pip could not fetch torch==2.13.0+cpu with DOC_ANON_PIP_ARGS='--no-index'");
      expect(chosen.err).not.toContain('download.pytorch.org');
      nothingUnpacked();
    } finally {
      fakeWheel(path.join(fakes, pin.wheel));
    }
  });
});
