/**
 * The held-out set of DiffUTE small (docs/training.md, "DiffUTE small"): N dataset-format pages
 * (PNG + annotation JSON), each one line of a text the training stream never generates as such,
 * in the formats the fakes produce (names, IBANs, amounts, dates: src/detect/fakes), in a bundled
 * face, size and dark ink on a light background. `doc-anon eval unet --data DIR` reads each line
 * back after the model repaints it.
 *   node -r ./bench/register-ts.js scripts/make-diffute-heldout.ts runs/heldout [count=200] [seed=9001]
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import { fakeDate } from '../src/detect/fakes/date';
import { fakeIban } from '../src/detect/fakes/iban';
import { fakeMoney } from '../src/detect/fakes/money';
import { fakePerson } from '../src/detect/fakes/person';
import { Rng } from '../src/detect/fakes/rng';
import { getFont, type BundledFontName } from '../src/render/fonts';

const [outDir, countArg, seedArg] = process.argv.slice(2);
if (!outDir) throw new Error('usage: make-diffute-heldout.ts OUT_DIR [count] [seed]');
const count = Number(countArg ?? 200);
const seed = Number(seedArg ?? 9001);
const FACES: BundledFontName[] = ['sans', 'serif', 'mono'];
const ORIGINALS: Array<[string, (o: string, r: Rng) => string]> = [
  ['Max Mustermann', fakePerson],
  ['DE89 3704 0044 0532 0130 00', fakeIban],
  ['1.234,56 EUR', fakeMoney],
  ['12.03.2024', fakeDate],
];

async function main(): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const rng = new Rng(crypto.createHash('sha256').update(`heldout:${seed}:${i}`).digest());
    const [orig, fake] = ORIGINALS[i % ORIGINALS.length];
    const text = fake(orig, rng);
    const face = FACES[rng.int(FACES.length)];
    const size = 14 + rng.int(9);
    const W = 448;
    const H = 96;
    const canvas = createCanvas(W, H);
    const ctx = canvas.getContext('2d');
    const paper = 235 + rng.int(21);
    ctx.fillStyle = `rgb(${paper},${paper - rng.int(6)},${paper - rng.int(10)})`;
    ctx.fillRect(0, 0, W, H);
    const ink = rng.int(3);
    ctx.fillStyle = ink === 0 ? 'rgb(20,20,20)' : ink === 1 ? 'rgb(20,30,110)' : 'rgb(60,60,60)';
    const font = getFont(face);
    ctx.font = font.cssFont(size);
    ctx.textBaseline = 'alphabetic';
    const x = 8 + rng.int(24);
    const m = font.metrics;
    const asc = (m.ascender * size) / m.unitsPerEm;
    const desc = (-m.descender * size) / m.unitsPerEm;
    const y = 30 + rng.int(20);
    ctx.fillText(text, x, y);
    const w = Math.min(W - x - 1, ctx.measureText(text).width);
    const rgba = ctx.getImageData(0, 0, W, H).data;
    const png = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width: W, height: H, channels: 4 } })
      .removeAlpha()
      .png()
      .toBuffer();
    const x0 = Math.floor(x);
    const y0 = Math.floor(y - asc);
    const x1 = Math.ceil(x + w);
    const y1 = Math.ceil(y + desc);
    const box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    const name = `page-${String(i).padStart(4, '0')}`;
    fs.writeFileSync(path.join(outDir, `${name}.png`), png);
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify({ width: W, height: H, document: [{ text, box, score: 1 }], meta: { face, size, kind: orig } }));
  }
  console.log(`${count} held-out lines in ${outDir}`);
}
void main();
