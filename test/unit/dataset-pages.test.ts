/**
 * The `dataset` page source: pages are RGB with transparency composited onto white paper, and an
 * annotation's image may not leave the dataset root, neither by its path nor through a link.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { DatasetPages } from '../../src/training/data/pages';

let root: string;
let outside: string;
const annotation = (image?: string) => ({ ...(image ? { image } : {}), document: [] });

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-pages-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-pages-outside-'));
  // A transparent page with one opaque black pixel at (1, 0).
  const rgba = Buffer.alloc(4 * 3 * 2);
  rgba.set([0, 0, 0, 255], 4);
  await sharp(rgba, { raw: { width: 3, height: 2, channels: 4 } }).png().toFile(path.join(root, 'a.png'));
  fs.writeFileSync(path.join(root, 'a.json'), JSON.stringify(annotation()));
  await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).png().toFile(path.join(outside, 'secret.png'));
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'link.png'));
  fs.writeFileSync(path.join(root, 'b.json'), JSON.stringify(annotation('link.png')));
  fs.writeFileSync(path.join(root, 'c.json'), JSON.stringify(annotation('../' + path.basename(outside) + '/secret.png')));
  fs.mkdirSync(path.join(root, '..dots'));
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } }).png().toFile(path.join(root, '..dots', 'p.png'));
  fs.writeFileSync(path.join(root, 'd.json'), JSON.stringify(annotation('..dots/p.png')));
  fs.writeFileSync(path.join(root, 'manifest.json'), '{"schema":"an R2 artifact manifest, not an annotation"}');
  fs.writeFileSync(path.join(outside, 'e.json'), JSON.stringify(annotation('a.png')));
  fs.symlinkSync(path.join(outside, 'e.json'), path.join(root, 'e.json'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

describe('DatasetPages', () => {
  it('composites a transparent page onto white (RGB, not black)', async () => {
    const p = await new DatasetPages(root).page(0);
    expect([p.width, p.height, p.data.length]).toEqual([3, 2, 18]);
    expect(Array.from(p.data.subarray(0, 6))).toEqual([255, 255, 255, 0, 0, 0]);
  });

  it('refuses an image outside the root, by a relative path or through a link; a name starting with .. is inside', async () => {
    const pages = new DatasetPages(root); // a, b, c, d, e (the manifest is skipped)
    await expect(pages.page(1)).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY', message: expect.stringMatching(/"link\.png" leaves the dataset root/) });
    await expect(pages.page(2)).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
    expect((await pages.page(3)).width).toBe(1);
    await expect(pages.page(4)).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY', message: expect.stringMatching(/annotation .*e\.json leaves the dataset root/) });
    expect((await pages.page(5)).width).toBe(3); // wraps around to a.json
  });
});
