import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot, unpackedPath } from '../../src/core/package-paths';
import { fontsDir } from '../../src/render/fonts';
import { tesseractWorkerPath } from '../../src/detect/ocr/tesseract';

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
