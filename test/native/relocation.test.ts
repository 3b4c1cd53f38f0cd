/**
 * The built addon finds libtorch relative to itself when it was built against the package's own
 * .libtorch: a copy of the package moved elsewhere (an Electron app's resources, a deployed folder)
 * loads with .libtorch beside build/, and without it fails to load instead of reaching back to the
 * build machine's absolute path. Built against another LIBTORCH (an installed CUDA PyTorch), the
 * rpath is that libtorch's absolute lib folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/core/package-paths';

const addon = path.join(packageRoot, 'build', 'Release', 'docanon.node');
const harness = path.join(packageRoot, 'build', 'docanon_harness');

function runpath(file: string): string {
  const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  const m = /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]/.exec(out);
  if (!m) throw new Error(`no RUNPATH in ${file}:\n${out}`);
  return m[1];
}

/** The libtorch the build used, from the cmake cache. */
function builtLibtorch(): string {
  const cache = fs.readFileSync(path.join(packageRoot, 'build', 'CMakeCache.txt'), 'utf8');
  const m = /^LIBTORCH:[A-Z]+=(.*)$/m.exec(cache);
  if (!m) throw new Error('LIBTORCH is not in build/CMakeCache.txt');
  return fs.realpathSync(m[1]);
}

/** Loads `file` in a fresh process and makes a tensor with it. */
function loadIn(file: string): { status: number | null; out: string } {
  const script = `const a = require(${JSON.stringify(file)}); a.init(class E extends Error {}); process.stdout.write(String(a.TensorHandle.zeros({ shape: [3] }).toTypedArray().length));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('libtorch lookup of the built binaries', () => {
  it('uses relative rpaths with the package\'s .libtorch (a moved copy loads only with .libtorch beside it), else the absolute LIBTORCH', () => {
    const own = path.join(packageRoot, '.libtorch');
    if (!(fs.existsSync(own) && builtLibtorch() === fs.realpathSync(own))) {
      // Built against another libtorch (LIBTORCH=...): nothing relative that could pick up a stale .libtorch.
      expect(runpath(addon)).toBe(path.join(builtLibtorch(), 'lib'));
      expect(runpath(harness)).toBe(path.join(builtLibtorch(), 'lib'));
      return;
    }
    expect(runpath(addon)).toBe('$ORIGIN/../../.libtorch/lib');
    expect(runpath(harness)).toBe('$ORIGIN/../.libtorch/lib');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-reloc-'));
    try {
      for (const name of ['with', 'without']) {
        fs.mkdirSync(path.join(tmp, name, 'build', 'Release'), { recursive: true });
        fs.copyFileSync(addon, path.join(tmp, name, 'build', 'Release', 'docanon.node'));
      }
      fs.symlinkSync(own, path.join(tmp, 'with', '.libtorch'));
      expect(loadIn(path.join(tmp, 'with', 'build', 'Release', 'docanon.node'))).toEqual({ status: 0, out: '3' });
      const without = loadIn(path.join(tmp, 'without', 'build', 'Release', 'docanon.node'));
      expect(without.status).not.toBe(0);
      expect(without.out).toMatch(/libtorch\S*\.so: cannot open shared object file/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
