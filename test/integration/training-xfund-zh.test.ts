/**
 * XFUND Chinese end to end: a tiny XFUND-format zh sample (made by test/helpers/xfund-zh.ts, no
 * download) imports with `doc-anon dataset import --format xfund`, a tiny UNet trains on it for a
 * few steps (every example's glyph image is Chinese text, drawn in the bundled CJK fallback face),
 * and the classic engine replaces a Chinese value on one of its pages.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocumentAnnotation } from '../../src/training/dataset-format';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { ClassicEngine } from '../../src/inference/engines/classic';
import { decodeImage } from '../../src/inference/image-io';
import { validateRegions } from '../../src/inference/regions';
import { runCli } from '../helpers/cli';
import { localUnetConfig } from '../helpers/training';
import { writeXfundZhSample } from '../helpers/xfund-zh';

let tmp: string;
let split: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-xfund-zh-'));
  split = await writeXfundZhSample(path.join(tmp, 'xfund'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('XFUND zh', () => {
  it('imports with dataset import and trains a tiny UNet for a few steps', async () => {
    const out = path.join(tmp, 'dataset');
    const r = await runCli(['dataset', 'import', '--format', 'xfund', '--in', split, '--out', out]);
    expect(r.stderr).not.toMatch(/ERR_/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'xfund', pages: 2, lines: 12 });
    const page = parseDocumentAnnotation(JSON.parse(fs.readFileSync(path.join(out, 'zh_train_0.json'), 'utf8')));
    expect(page.document.map((l) => l.text)).toContain('张伟');

    const t = await UnetTrainer.create(
      localUnetConfig({ train: { max_steps: 3, batch_size: 2 }, data: { source: 'dataset', dataset_dir: out, crop_size: 32, examples_per_page: 4 } }),
    );
    try {
      for (let i = 0; i < 3; i++) {
        const s = await t.trainStep();
        expect(Number.isFinite(s.terms.loss)).toBe(true);
        expect(s.examples).toBe(2);
      }
      expect(t.step).toBe(3);
    } finally {
      t.dispose();
    }
  });

  it.each([
    ['without the original text', {}],
    ['matching the style of the original text', { original: '张伟' }],
  ])('the classic engine replaces a Chinese value (%s): the region changes and carries new ink', async (_what, extra) => {
    const doc = JSON.parse(fs.readFileSync(split, 'utf8')).documents[0];
    const value = doc.document.find((e: { text: string }) => e.text === '张伟');
    const image = await decodeImage(path.join(path.dirname(split), doc.img.fname));
    const regions = validateRegions([{ box: value.box, replacement: '李娜', ...extra }], image);
    const c = image.channels;
    const { image: outImage, reports } = await new ClassicEngine({ seed: 1 }).anonymize(image, regions);
    expect(reports).toHaveLength(1);
    const [x0, y0, x1, y1] = value.box as number[];
    let changed = 0;
    let dark = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * image.width + x) * c;
        const diff = Math.abs(outImage.data[i] - image.data[i]) + Math.abs(outImage.data[i + 1] - image.data[i + 1]) + Math.abs(outImage.data[i + 2] - image.data[i + 2]);
        if (diff > 60) changed++;
        if (outImage.data[i] < 100) dark++;
      }
    }
    const area = (x1 - x0) * (y1 - y0);
    expect(changed / area).toBeGreaterThan(0.05); // 张伟 is gone where 李娜 differs
    expect(dark / area).toBeGreaterThan(0.05); // and the box is not blank: new ink was drawn
  });
});
