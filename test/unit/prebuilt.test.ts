/** When the prebuilt addon shipped in the package is used, and what is said when it is not. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prebuiltMismatch, readPrebuiltManifest, versionLess, type PrebuiltHost, type PrebuiltManifest } from '../../src/native/prebuilt';

const wheel = { version: '2.13.0+cpu', wheel: 'torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl', sha256: 'a'.repeat(64) };
const manifest: PrebuiltManifest = { platform: 'linux', arch: 'x64', napi: 8, glibc: '2.34', libtorch: wheel, gloo: true, files: {} };
const host: PrebuiltHost = { platform: 'linux', arch: 'x64', napi: 10, glibc: '2.36' };

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-prebuilt-'));
  fs.mkdirSync(path.join(root, 'prebuilt', 'Release'), { recursive: true });
  fs.writeFileSync(path.join(root, 'prebuilt', 'manifest.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(root, 'prebuilt', 'Release', 'docanon.node'), '');
  fs.mkdirSync(path.join(root, '.libtorch'));
  fs.writeFileSync(path.join(root, '.libtorch', 'source.json'), JSON.stringify(wheel));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the prebuilt addon', () => {
  it('fits the platform, Node-API, glibc and the exact libtorch wheel it was linked against', () => {
    expect(readPrebuiltManifest(root)).toEqual(manifest);
    expect(prebuiltMismatch(root, { host })).toBeUndefined();
  });

  it('says why it does not fit', () => {
    expect(prebuiltMismatch(root, { host: { ...host, arch: 'arm64' } })).toBe('the prebuilt addon is for linux-x64, this is linux-arm64');
    expect(prebuiltMismatch(root, { host: { ...host, platform: 'darwin' } })).toBe('the prebuilt addon is for linux-x64, this is darwin-x64');
    expect(prebuiltMismatch(root, { host: { ...host, napi: 7 } })).toMatch(/needs Node-API 8, this Node \(v[\d.]+\) has 7$/);
    expect(prebuiltMismatch(root, { host: { ...host, glibc: '2.31' } })).toBe('the prebuilt addon needs glibc >= 2.34, this system has 2.31');
    expect(prebuiltMismatch(root, { host: { ...host, glibc: undefined } })).toMatch(/no glibc \(musl\?\)/);

    fs.writeFileSync(path.join(root, '.libtorch', 'source.json'), JSON.stringify({ ...wheel, sha256: 'b'.repeat(64) }));
    expect(prebuiltMismatch(root, { host })).toMatch(/linked against torch-2\.13\.0\+cpu-.*\(sha256 aaaaaaaaaaaa\.\.\.\), \.libtorch\/ holds .*\(sha256 bbbbbbbbbbbb\.\.\.\)/);
    // Before libtorch is fetched (the install step's first question) only the machine counts.
    expect(prebuiltMismatch(root, { host, checkLibtorch: false })).toBeUndefined();

    fs.rmSync(path.join(root, '.libtorch', 'source.json'));
    expect(prebuiltMismatch(root, { host })).toMatch(/does not record which wheel it came from/);
    fs.rmSync(path.join(root, '.libtorch'), { recursive: true });
    expect(prebuiltMismatch(root, { host })).toMatch(/\.libtorch\/ is missing .*npm rebuild doc-anon-torch/);

    fs.rmSync(path.join(root, 'prebuilt', 'Release', 'docanon.node'));
    expect(prebuiltMismatch(root, { host })).toMatch(/docanon\.node is missing/);
    fs.rmSync(path.join(root, 'prebuilt'), { recursive: true });
    expect(readPrebuiltManifest(root)).toBeUndefined();
    expect(prebuiltMismatch(root, { host })).toMatch(/has no prebuilt addon/);
  });

  it('compares dotted versions numerically', () => {
    expect(versionLess('2.9', '2.34')).toBe(true);
    expect(versionLess('2.34', '2.34')).toBe(false);
    expect(versionLess('2.36', '2.34')).toBe(false);
    expect(versionLess('2', '2.1')).toBe(true);
  });
});
