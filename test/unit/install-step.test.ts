/**
 * npm's install step (scripts/install.cjs) on platforms nobody builds or tests on: it stops at once
 * with what is supported and what the platform would take, instead of starting a source build that
 * ends in a compiler error. process.platform / process.arch are faked in the child with a preload.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/core/package-paths';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-install-step-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function installOn(platform: string, arch: string, extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; err: string } {
  const fake = path.join(dir, `fake-${platform}-${arch}.cjs`);
  fs.writeFileSync(fake, `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });\nObject.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });\n`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DOC_ANON_SKIP_NATIVE;
  delete env.DOC_ANON_BUILD_FROM_SOURCE;
  Object.assign(env, extraEnv);
  const r = spawnSync(process.execPath, ['-r', fake, path.join(packageRoot, 'scripts', 'install.cjs')], { encoding: 'utf8', env });
  return { status: r.status, err: r.stderr };
}

describe('the install step on untested platforms', () => {
  it.each([
    ['darwin', 'arm64', /macOS is not built or tested\. It would take a macOS libtorch/],
    ['win32', 'x64', /Windows is not built or tested\. It would take a port of the build scripts/],
    ['linux', 'arm64', /Linux arm64 would take an aarch64 libtorch/],
    ['freebsd', 'x64', /freebsd is not built or tested/],
  ])('%s-%s: refused with what it would take, before anything is fetched or compiled', (platform, arch, what) => {
    const r = installOn(platform, arch);
    expect(r.status).toBe(1);
    expect(r.err).toContain(`${platform}-${arch} is not a supported platform: doc-anon-torch is built and tested on Linux x64 only.`);
    expect(r.err).toMatch(what);
    expect(r.err).toContain('DOC_ANON_BUILD_FROM_SOURCE=1 LIBTORCH=/path/to/libtorch npm rebuild doc-anon-torch');
    expect(r.err).not.toMatch(/setup-libtorch|build-native|building from source/);
  });

  it('DOC_ANON_SKIP_NATIVE=1 skips the native step on any platform', () => {
    const r = installOn('darwin', 'arm64', { DOC_ANON_SKIP_NATIVE: '1' });
    expect(r).toEqual({ status: 0, err: expect.stringMatching(/DOC_ANON_SKIP_NATIVE=1: no native addon installed/) });
  });
});
