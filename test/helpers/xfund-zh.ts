/**
 * A tiny XFUND-format Chinese sample made here (no download): `zh.train.json` in XFUND's layout
 * (`{ lang, version, split, documents: [{ id, uid, document: [form entities], img }] }`) and one
 * generated page image per document, the key/value text drawn in the bundled CJK fallback face
 * at the boxes the entities give.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { getFont } from '../../src/render/fonts';

export const XFUND_ZH_WIDTH = 400;
export const XFUND_ZH_HEIGHT = 160;

/** Each document's question/answer pairs (fictitious people). */
const DOCS: Array<Array<[string, string]>> = [
  [
    ['姓名：', '张伟'],
    ['电话：', '13800138000'],
    ['地址：', '北京市海淀区中关村大街1号'],
  ],
  [
    ['姓名：', '王芳'],
    ['日期：', '2021年5月3日'],
    ['金额：', '人民币壹仟元整'],
  ],
];

type Box = [number, number, number, number];

/** Writes the sample into `dir`; returns the split file's path. */
export async function writeXfundZhSample(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const face = getFont('droid-sans-fallback');
  const size = 20;
  const documents = [];
  for (const [d, pairs] of DOCS.entries()) {
    const canvas = createCanvas(XFUND_ZH_WIDTH, XFUND_ZH_HEIGHT);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, XFUND_ZH_WIDTH, XFUND_ZH_HEIGHT);
    ctx.fillStyle = '#101010';
    ctx.font = face.cssFont(size);
    ctx.textBaseline = 'alphabetic';
    const document = [];
    let id = 0;
    for (const [row, [question, answer]] of pairs.entries()) {
      const top = 12 + row * 44;
      const baseline = top + size;
      let x = 10;
      for (const [text, label] of [[question, 'question'], [answer, 'answer']] as const) {
        ctx.fillText(text, x, baseline);
        const w = Math.ceil(face.advanceWidth(text, size));
        const box: Box = [x, top, x + w, top + size + 6];
        // XFUND's words are one per character for Chinese; their boxes split the entity's evenly.
        const chars = Array.from(text);
        const step = w / chars.length;
        const words = chars.map((c, i) => ({ text: c, box: [Math.round(x + i * step), top, Math.round(x + (i + 1) * step), top + size + 6] as Box }));
        document.push({ id, text, box, label, words, linking: label === 'question' ? [[id, id + 1]] : [[id - 1, id]] });
        id++;
        x += w + 8;
      }
    }
    const fname = `zh_train_${d}.jpg`;
    fs.writeFileSync(path.join(dir, fname), await canvas.encode('jpeg', 95));
    documents.push({ id: `zh_train_${d}`, uid: `sample-${d}`, document, img: { fname, width: XFUND_ZH_WIDTH, height: XFUND_ZH_HEIGHT } });
  }
  const file = path.join(dir, 'zh.train.json');
  fs.writeFileSync(file, JSON.stringify({ lang: 'zh', version: '1.0', split: 'train', documents }));
  return file;
}
