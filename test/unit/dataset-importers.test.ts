/**
 * FUNSD / XFUND importers: tiny fixtures made here (sharp images, hand-written annotations) are
 * imported; the output JSONs follow the dataset schema with the right texts and boxes (clipped to
 * the image, degenerate / empty ones skipped and counted); bad inputs give their documented codes;
 * and the `dataset` page source (DatasetPages) and the VAE example stream read the imported folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { parseDocumentAnnotation, quadFromRect } from '../../src/training/dataset-format';
import { DatasetPages } from '../../src/training/data/pages';
import { vaeBatch } from '../../src/training/data/vae-examples';
import { importDataset, importFunsd, importXfund } from '../../src/training/data/importers';
import { importDataset as publicImportDataset } from '../../src/index';

async function image(file: string, width: number, height: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp({ create: { width, height, channels: 3, background: { r: 250, g: 250, b: 250 } } });
  await (file.endsWith('.png') ? img.png() : img.jpeg()).toFile(file);
}

function json(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
}

const entity = (id: number, text: string, box: number[], words: Array<{ text: string; box: number[] }> = [], label = 'other') => ({ id, text, box, label, words, linking: [] });

/** Page a (100x80): 8 entities, of which 3 are kept. */
const FORM_A = [
  entity(0, 'Form  Title\n', [10, 5, 60, 15], [{ text: 'Form', box: [10, 5, 30, 15] }, { text: 'Title', box: [35, 5, 60, 15] }], 'header'),
  entity(1, 'Name:', [10, 20, 40, 30], [{ text: 'Name:', box: [10, 20, 40, 30] }, { text: '', box: [40, 20, 41, 30] }, { text: 'x', box: [12, 22, 12.5, 29] }], 'question'),
  entity(2, '', [50, 20, 90, 30], [], 'answer'),
  entity(3, '   ', [50, 35, 90, 45], [], 'answer'),
  entity(4, 'edge', [90, 70, 120, 95], [{ text: 'edge', box: [95, 75, 130, 90] }]),
  entity(5, 'dot', [50, 50, 50, 60]),
  entity(6, 'outside', [200, 200, 220, 210]),
  entity(7, 'swapped', [70, 60, 60, 50]),
];

/** The expected counts of page a plus page b (one plain entity). */
const EXPECTED_REPORT = {
  pages: 2,
  lines: 5,
  words: 5,
  clipped: { lines: 1, words: 1 },
  skipped: { emptyText: 2, degenerateBox: 2, emptyWord: 1, degenerateWordBox: 1 },
};

async function makeFunsd(root: string): Promise<void> {
  await image(path.join(root, 'images', 'a.png'), 100, 80);
  json(path.join(root, 'annotations', 'a.json'), { form: FORM_A });
  await image(path.join(root, 'images', 'b.jpg'), 60, 40);
  json(path.join(root, 'annotations', 'b.json'), { form: [entity(0, 'Date', [1, 1, 20, 10], [{ text: 'Date', box: [1, 1, 20, 10] }])] });
}

async function makeXfund(dir: string): Promise<string> {
  await image(path.join(dir, 'zh_train_0.jpg'), 100, 80);
  await image(path.join(dir, 'zh_train_1.png'), 60, 40);
  const file = path.join(dir, 'zh.train.json');
  json(file, {
    lang: 'zh',
    version: '0.1',
    split: 'train',
    documents: [
      { id: 'zh_train_0', uid: 'u0', document: FORM_A, img: { fname: 'zh_train_0.jpg', width: 100, height: 80 } },
      { id: 'zh_train_1', document: [entity(0, '日期', [1, 1, 20, 10], [{ text: '日期', box: [1, 1, 20, 10] }])], img: { fname: 'zh_train_1.png', width: 60, height: 40 } },
    ],
  });
  return file;
}

function readOut(dir: string, name: string) {
  return parseDocumentAnnotation(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')), name);
}

/** The code and message of the error `fn` rejects with. */
async function failure(fn: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a failure');
}

describe('dataset importers', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-import-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function checkPageA(dir: string, name: string, image: string): void {
    const a = readOut(dir, name);
    expect(a).toMatchObject({ version: 1, image, width: 100, height: 80, entities: [] });
    expect(a.document.map((l) => l.text)).toEqual(['Form Title', 'Name:', 'edge', 'swapped']);
    expect(a.document.every((l) => l.score === 1)).toBe(true);
    expect(a.document[0].box).toEqual(quadFromRect(10, 5, 60, 15));
    expect(a.document[0].words).toEqual([
      { text: 'Form', box: quadFromRect(10, 5, 30, 15), score: 1 },
      { text: 'Title', box: quadFromRect(35, 5, 60, 15), score: 1 },
    ]);
    // The empty word and the half-pixel word are left out; the rest stays.
    expect(a.document[1].words?.map((w) => w.text)).toEqual(['Name:']);
    // Clipped to the 100x80 image (line and word).
    expect(a.document[2].box).toEqual(quadFromRect(90, 70, 100, 80));
    expect(a.document[2].words?.[0].box).toEqual(quadFromRect(95, 75, 100, 80));
    // A box given with x1 < x0, y1 < y0 is ordered; no words: no `words` key.
    expect(a.document[3].box).toEqual(quadFromRect(60, 50, 70, 60));
    expect(a.document[3].words).toBeUndefined();
  }

  it('FUNSD: one line per entity, boxes as 4 points clipped to the image, skips counted', async () => {
    const src = path.join(tmp, 'funsd');
    const out = path.join(tmp, 'funsd-out');
    await makeFunsd(src);
    const report = await importFunsd(src, out);
    expect(report).toEqual({ format: 'funsd', output: out, ...EXPECTED_REPORT });
    expect(fs.readdirSync(out).sort()).toEqual(['a.json', 'a.png', 'b.jpg', 'b.json']); // no temp files left
    checkPageA(out, 'a.json', 'a.png');
    const b = readOut(out, 'b.json');
    expect(b).toMatchObject({ image: 'b.jpg', width: 60, height: 40, meta: { source: 'funsd', id: 'b' } });
    expect(b.document).toEqual([{ text: 'Date', box: quadFromRect(1, 1, 20, 10), score: 1, words: [{ text: 'Date', box: quadFromRect(1, 1, 20, 10), score: 1 }] }]);
    expect(fs.readFileSync(path.join(out, 'a.png')).equals(fs.readFileSync(path.join(src, 'images', 'a.png')))).toBe(true);

    // Importing again replaces the files with the same bytes.
    const before = fs.readFileSync(path.join(out, 'a.json'));
    await importDataset({ format: 'funsd', input: src, output: out });
    expect(fs.readFileSync(path.join(out, 'a.json')).equals(before)).toBe(true);
  });

  it('the dataset page source and the VAE example stream read the imported folder', async () => {
    const out = path.join(tmp, 'funsd-out');
    const pages = new DatasetPages(out);
    const a = await pages.page(0);
    expect([a.width, a.height, a.data.length]).toEqual([100, 80, 100 * 80 * 3]);
    expect(a.annotation.document).toHaveLength(4);
    const b = await pages.page(1);
    expect([b.width, b.height]).toEqual([60, 40]);
    expect(b.annotation.document[0].text).toBe('Date');
    const batch = await vaeBatch(pages, { seed: 1, cropSize: 32, examplesPerPage: 1 }, 0, 2);
    expect(batch.shape).toEqual([2, 32, 32, 3]);
  });

  it('XFUND: a split file (and a folder of them) imports with img.width/height; meta keeps lang and split', async () => {
    const dir = path.join(tmp, 'xfund');
    const file = await makeXfund(dir);
    const out = path.join(tmp, 'xfund-out');
    const report = await importDataset({ format: 'xfund', input: file, output: out });
    expect(report).toEqual({ format: 'xfund', output: out, ...EXPECTED_REPORT });
    expect(fs.readdirSync(out).sort()).toEqual(['zh_train_0.jpg', 'zh_train_0.json', 'zh_train_1.json', 'zh_train_1.png']);
    checkPageA(out, 'zh_train_0.json', 'zh_train_0.jpg');
    const d1 = readOut(out, 'zh_train_1.json');
    expect(d1).toMatchObject({ width: 60, height: 40, meta: { source: 'xfund', id: 'zh_train_1', lang: 'zh', split: 'train' } });
    expect(d1.document[0].text).toBe('日期');
    const pages = new DatasetPages(out);
    expect((await pages.page(1)).annotation.document[0].text).toBe('日期');

    const fromFolder = await importXfund(dir, path.join(tmp, 'xfund-out2'));
    expect(fromFolder.pages).toBe(2);
    // The public index exports the same function.
    expect(publicImportDataset).toBe(importDataset);
  });

  describe('bad inputs', () => {
    let n = 0;
    const fresh = (): string => path.join(tmp, `bad-${n++}`);

    it('ERR_NOT_FOUND: missing input folder, annotations folder or image', async () => {
      expect((await failure(() => importDataset({ format: 'funsd', input: path.join(tmp, 'nope'), output: fresh() }))).code).toBe('ERR_NOT_FOUND');
      const noAnn = fresh();
      fs.mkdirSync(path.join(noAnn, 'images'), { recursive: true });
      const e1 = await failure(() => importFunsd(noAnn, fresh()));
      expect(e1.code).toBe('ERR_NOT_FOUND');
      expect(e1.message).toContain('annotations');
      const noImg = fresh();
      fs.mkdirSync(path.join(noImg, 'images'), { recursive: true });
      json(path.join(noImg, 'annotations', 'c.json'), { form: [] });
      const e2 = await failure(() => importFunsd(noImg, fresh()));
      expect(e2.code).toBe('ERR_NOT_FOUND');
      expect(e2.message).toContain('c.json');
    });

    it('ERR_INPUT naming the file and the key: unknown keys, bad labels, bad boxes, bad JSON', async () => {
      const cases: Array<[unknown, string]> = [
        [{ form: [{ ...entity(0, 'a', [0, 0, 5, 5]), parent: 1 }] }, 'form.0.parent: unknown key'],
        [{ form: [entity(0, 'a', [0, 0, 5, 5], [], 'key')] }, 'form.0.label'],
        [{ form: [entity(0, 'a', [0, 0, 5])] }, 'form.0.box'],
        [{ entities: [] }, 'entities: unknown key'],
        ['{"form": [', 'not valid JSON'],
      ];
      for (const [content, expected] of cases) {
        const root = fresh();
        await image(path.join(root, 'images', 'p.png'), 10, 10);
        json(path.join(root, 'annotations', 'p.json'), content);
        const e = await failure(() => importFunsd(root, fresh()));
        expect(e.code).toBe('ERR_INPUT');
        expect(e.message).toContain(path.join(root, 'annotations', 'p.json'));
        expect(e.message).toContain(expected);
      }
    });

    it('XFUND: ERR_UNSAFE_KEY for an image path leaving its folder, ERR_INPUT for a size mismatch or unknown key', async () => {
      const dir = fresh();
      await image(path.join(dir, 'p.png'), 20, 10);
      await image(path.join(tmp, 'outside.png'), 20, 10);
      const split = (img: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
        lang: 'de', version: '1', split: 'val', documents: [{ id: 'de_val_0', document: [entity(0, 'a', [0, 0, 5, 5])], img, ...extra }],
      });
      json(path.join(dir, 'a.json'), split({ fname: '../outside.png', width: 20, height: 10 }));
      expect((await failure(() => importXfund(path.join(dir, 'a.json'), fresh()))).code).toBe('ERR_UNSAFE_KEY');
      json(path.join(dir, 'b.json'), split({ fname: 'p.png', width: 21, height: 10 }));
      const e = await failure(() => importXfund(path.join(dir, 'b.json'), fresh()));
      expect(e.code).toBe('ERR_INPUT');
      expect(e.message).toMatch(/21x10.*20x10/);
      json(path.join(dir, 'c.json'), split({ fname: 'p.png', width: 20, height: 10 }, { annotator: 'x' }));
      const e2 = await failure(() => importXfund(path.join(dir, 'c.json'), fresh()));
      expect(e2.code).toBe('ERR_INPUT');
      expect(e2.message).toContain('documents.0.annotator: unknown key');
    });

    it('ERR_IMAGE for an unreadable image; ERR_ARGUMENT for an unknown format or output = input folder', async () => {
      const root = fresh();
      json(path.join(root, 'images', 'p.png'), 'not a png');
      json(path.join(root, 'annotations', 'p.json'), { form: [] });
      expect((await failure(() => importFunsd(root, fresh()))).code).toBe('ERR_IMAGE');
      expect((await failure(() => importDataset({ format: 'csv' as 'funsd', input: root, output: fresh() }))).code).toBe('ERR_ARGUMENT');
      expect((await failure(() => importFunsd(root, path.join(root, 'annotations')))).code).toBe('ERR_ARGUMENT');
      const dir = path.join(tmp, 'xfund');
      expect((await failure(() => importXfund(path.join(dir, 'zh.train.json'), dir))).code).toBe('ERR_ARGUMENT');
    });
  });
});
