import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot, unpackedPath } from '../../src/core/package-paths';
import { fontsDir } from '../../src/render/fonts';
import { tesseractWorkerPath } from '../../src/detect/ocr/tesseract';
import { addonCandidates } from '../../src/native/loader';

describe('package paths (Electron asar archives)', () => {
  it('points files inside an asar archive at its .asar.unpacked twin, and leaves other paths alone', () => {
    expect(unpackedPath('/opt/App/resources/app.asar/node_modules/doc-anon-torch/build/Release/docanon.node')).toBe(
      '/opt/App/resources/app.asar.unpacked/node_modules/doc-anon-torch/build/Release/docanon.node',
    );
    expect(unpackedPath('C:\\Program Files\\App\\resources\\app.asar\\node_modules\\doc-anon-torch')).toBe(
      'C:\\Program Files\\App\\resources\\app.asar.unpacked\\node_modules\\doc-anon-torch',
    );
    expect(unpackedPath('/opt/App/resources/app.asar')).toBe('/opt/App/resources/app.asar.unpacked');
    for (const same of [
      '/opt/App/resources/app.asar.unpacked/node_modules/x',
      '/home/me/project/node_modules/doc-anon-torch/lib',
      '/data/backup.asarx/file',
      '/data/my.asar-notes/file',
    ]) {
      expect(unpackedPath(same)).toBe(same);
    }
  });

  it('outside an archive, the package root and the files native code opens are the plain paths', () => {
    expect(packageRoot).toBe(path.resolve(__dirname, '..', '..'));
    expect(fs.existsSync(path.join(packageRoot, 'package.json'))).toBe(true);
    expect(fontsDir()).toBe(path.join(packageRoot, 'assets', 'fonts'));
    expect(tesseractWorkerPath()).toBeUndefined();
  });
});

describe('where the addon is looked for', () => {
  const saved = process.env.DOC_ANON_NATIVE;
  afterEach(() => {
    if (saved === undefined) delete process.env.DOC_ANON_NATIVE;
    else process.env.DOC_ANON_NATIVE = saved;
  });

  it('DOC_ANON_NATIVE first, a relative one taken from the current directory (not as a package name); then the build, then the prebuilt addon', () => {
    process.env.DOC_ANON_NATIVE = path.join('build-gpu', 'docanon.node');
    expect(addonCandidates()).toEqual([
      path.join(process.cwd(), 'build-gpu', 'docanon.node'),
      path.join(packageRoot, 'build', 'Release', 'docanon.node'),
      path.join(packageRoot, 'build', 'Debug', 'docanon.node'),
      path.join(packageRoot, 'prebuilt', 'Release', 'docanon.node'),
    ]);
    delete process.env.DOC_ANON_NATIVE;
    expect(addonCandidates()[0]).toBe(path.join(packageRoot, 'build', 'Release', 'docanon.node'));
  });
});
