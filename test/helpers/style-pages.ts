/**
 * Pages whose every field's typeface, weight, slant, size and ink are known, for the style match
 * (tests and `bench/style-match.ts`): a bank statement (the issue's: serif name and address,
 * monospaced IBAN, card, account number, dates and amounts, sans-serif email and phone), an invoice
 * and a letter, in Great Britain, Germany or the United States, every bundled family across seeds,
 * clean (rendered at 150 dpi) or scanned (rendered at 300 dpi, scanned at 150: resampled, blurred,
 * grainy, on tinted paper). The same spec renders the same page; `replace` renders it with other
 * texts in the same fields, so the ideal result of a replacement is known pixel for pixel. The
 * page's words come with their boxes, as an OCR reading would give them.
 */
import * as path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import sharp from 'sharp';
import { FACE_SPECS, type BundledFontName, type FontFamilyName } from '../../src/render/fonts';
import type { OcrPage } from '../../src/detect/types';
import { Seeded } from './hard-pages';
import { ibanCheck, luhnDigit } from './check-digits';

const FONT_DIR = path.join(__dirname, '..', '..', 'assets', 'fonts');
let registered = false;
function registerFonts(): void {
  if (registered) return;
  for (const f of FACE_SPECS) GlobalFonts.registerFromPath(path.join(FONT_DIR, f.file), `StylePage ${f.name}`);
  registered = true;
}

/** What a page is. */
export interface StylePageSpec {
  seed: number;
  layout: 'statement' | 'invoice' | 'letter';
  country: 'GB' | 'DE' | 'US';
  scanned: boolean;
}

/** One piece of text on the page and how it is printed. */
export interface StyleItem {
  text: string;
  /** The value kind, for fields the detection should find ('' for labels and body text). */
  kind: string;
  face: BundledFontName;
  family: FontFamilyName;
  weight: 'regular' | 'bold';
  slant: 'normal' | 'italic';
  /** The em at the page's resolution, px. */
  size: number;
  color: [number, number, number];
  /** Pen x (left-aligned) or right edge (right-aligned) and baseline, page px. */
  x: number;
  baseline: number;
  align: 'left' | 'right';
  /** The drawn text's left and right pen extent, page px (set when the page is rendered). */
  left: number;
  right: number;
}

/** A rendered page. */
export interface StylePage {
  spec: StylePageSpec;
  png: Buffer;
  width: number;
  height: number;
  items: StyleItem[];
  /** The words and their ink boxes, lines in reading order (what a perfect OCR reads). */
  ocr: OcrPage;
  /** The paper colour and the blur and noise of the scan. */
  paper: [number, number, number];
  blur: number;
  noise: number;
}

const DPI = 150;
const SCALE = 2; // scanned pages are drawn at 300 dpi
const W = Math.round(8.27 * DPI);
const H = Math.round(11.69 * DPI);
const pt = (p: number): number => (p * DPI) / 72;

const SERIF: FontFamilyName[] = ['liberation-serif', 'dejavu-serif'];
const SANS: FontFamilyName[] = ['liberation-sans', 'carlito', 'dejavu-sans'];
const MONO: FontFamilyName[] = ['liberation-mono', 'dejavu-mono'];

function faceOf(family: FontFamilyName, weight: 'regular' | 'bold', slant: 'normal' | 'italic'): StyleItem['face'] {
  const exact = FACE_SPECS.find((f) => f.family === family && f.weight === weight && f.style === slant);
  const f = exact ?? FACE_SPECS.find((x) => x.family === family && x.weight === weight)!;
  return f.name as BundledFontName;
}

const GIVEN = ['Margaret', 'Thomas', 'Oliver', 'Charlotte', 'Henrik', 'Amelia', 'Jonas', 'Beatrice', 'Samuel', 'Eleanor'];
const FAMILY = ['Whitfield', 'Lindqvist', 'Brennan', 'Hartmann', 'Fairbairn', 'Pemberton', 'Ashworth', 'Sorensen'];
const PLACES = {
  GB: { streets: ['Maple Avenue', 'Harbour Road', 'Station Lane', 'Mill Close'], towns: ['Leeds LS1 4AP', 'Bristol BS8 1TH', 'York YO1 7HH', 'Bath BA1 1LZ'] },
  DE: { streets: ['Lindenstraße', 'Bahnhofstraße', 'Gartenweg', 'Schillerstraße'], towns: ['10115 Berlin', '80331 München', '50667 Köln', '20095 Hamburg'] },
  US: { streets: ['Maple Avenue', 'Elm Street', 'Harbor Road', 'Oak Drive'], towns: ['Springfield, IL 62704', 'Madison, WI 53703', 'Dayton, OH 45402', 'Salem, OR 97301'] },
} as const;
const PAYEES = ['Northgate Energy', 'City Water', 'Parkside Dental', 'Metro Rail', 'Corner Grocer', 'Bluebird Cafe'];

/** The values of a page for its country (checksums valid). */
function values(rng: Seeded, country: StylePageSpec['country']) {
  const given = rng.pick(GIVEN);
  const family = rng.pick(FAMILY);
  const p = PLACES[country];
  let iban = '';
  if (country === 'GB') {
    const bban = rng.pick(['NWBK', 'BARC', 'MIDL']) + rng.digits(14);
    iban = `GB${ibanCheck('GB', bban)}${bban}`;
  } else if (country === 'DE') {
    const bban = rng.digits(18);
    iban = `DE${ibanCheck('DE', bban)}${bban}`;
  }
  const prefix = rng.pick(['4', '51', '53']);
  const body = prefix + rng.digits(15 - prefix.length);
  const phone = country === 'GB' ? `+44 20 7946 0${rng.digits(3)}` : country === 'DE' ? `+49 30 ${rng.digits(8)}` : `+1 212 555 01${rng.digits(2)}`;
  const domain = { GB: 'mailbox.co.uk', DE: 'postfach.de', US: 'example.com' }[country];
  return {
    name: `${given} ${family}`,
    email: `${given.toLowerCase()}.${family.toLowerCase()}@${domain}`,
    phone,
    iban: iban.replace(/(.{4})(?=.)/g, '$1 '),
    card: (body + luhnDigit(body)).replace(/(.{4})(?=.)/g, '$1 '),
    account: rng.digits(8),
    street: country === 'DE' ? `${rng.pick(p.streets)} ${rng.int(2, 90)}` : `${rng.int(2, 180)} ${rng.pick(p.streets)}`,
    town: rng.pick(p.towns),
  };
}

/** A date in the country's numeric format. */
function formatDate(country: StylePageSpec['country'], d: Date): string {
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const yyyy = d.getUTCFullYear();
  return country === 'DE' ? `${dd}.${mm}.${yyyy}` : country === 'US' ? `${mm}/${dd}/${yyyy}` : `${dd}/${mm}/${yyyy}`;
}

/** An amount in the country's format (two decimals, grouping). */
export function formatAmount(country: StylePageSpec['country'], v: number): string {
  const neg = v < 0;
  const [int, dec] = Math.abs(v).toFixed(2).split('.');
  const group = country === 'DE' ? '.' : ',';
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${neg ? '-' : ''}${grouped}${country === 'DE' ? ',' : '.'}${dec}`;
}

/** The items of a page (no rendering). */
export function styleItems(spec: StylePageSpec): StyleItem[] {
  const rng = new Seeded(spec.seed * 7919 + 17);
  const v = values(rng, spec.country);
  // Families cycle with the seed so every bundled family is printed across a handful of pages.
  const serif = SERIF[spec.seed % SERIF.length];
  const sans = SANS[spec.seed % SANS.length];
  const mono = MONO[(spec.seed >> 1) % MONO.length];
  const ink: [number, number, number] = rng.pick([[17, 17, 17], [40, 40, 48], [24, 40, 96]] as [number, number, number][]);
  const items: StyleItem[] = [];
  const add = (text: string, kind: string, family: FontFamilyName, sizePt: number, x: number, y: number, o: { bold?: boolean; italic?: boolean; align?: 'left' | 'right'; color?: [number, number, number] } = {}): void => {
    const weight = o.bold ? 'bold' : 'regular';
    const slant = o.italic && family.startsWith('liberation') ? 'italic' : 'normal';
    items.push({ text, kind, face: faceOf(family, weight, slant), family, weight, slant, size: pt(sizePt), color: o.color ?? ink, x, baseline: y, align: o.align ?? 'left', left: 0, right: 0 });
  };
  const body = 10 + rng.int(0, 2);
  const L = 110;
  const lh = pt(body) * 1.6;
  const dates = (n: number): string[] => {
    const start = Date.UTC(2026, rng.int(0, 10), rng.int(1, 9));
    return Array.from({ length: n }, (_, i) => formatDate(spec.country, new Date(start + (i * 3 + rng.int(0, 2)) * 86400000)));
  };
  if (spec.layout === 'statement') {
    add('Crestline Bank', '', sans, 18, L, 150, { bold: true });
    add('Statement of account', '', sans, 12, 760, 150);
    const nameBold = rng.next() < 0.4;
    add(v.name, 'person', serif, body + 1, L, 260, { bold: nameBold });
    add(v.street, 'address', serif, body + 1, L, 260 + lh);
    add(v.town, 'address', serif, body + 1, L, 260 + 2 * lh);
    const labels = ['Account number:', 'IBAN:', 'Card number:', 'Email:', 'Telephone:'];
    const vals: [string, string, FontFamilyName][] = [
      [v.account, 'account_number', mono],
      [v.iban, 'iban', mono],
      [v.card, 'card', mono],
      [v.email, 'email', sans],
      [v.phone, 'phone', sans],
    ];
    let y = 260 + 4 * lh;
    vals.forEach(([val, kind, fam], i) => {
      if (kind === 'iban' && !val) return;
      add(labels[i], '', sans, body, L, y);
      add(val, kind, fam, body, L + 260, y, { italic: kind === 'email' && rng.next() < 0.3 });
      y += lh;
    });
    const top = y + lh;
    ['Date', 'Description', 'Amount', 'Balance'].forEach((h, i) => add(h, '', sans, body, [L, 330, 900, 1110][i], top, { bold: true, align: i >= 2 ? 'right' : 'left' }));
    let balance = rng.int(1500, 9000) + rng.int(0, 99) / 100;
    dates(7).forEach((d, j) => {
      const amount = (rng.next() < 0.7 ? -1 : 1) * (rng.int(5, 900) + rng.int(0, 99) / 100);
      balance += amount;
      const ry = top + (j + 1) * lh;
      add(d, 'date', mono, body, L, ry);
      add(rng.pick(PAYEES), '', sans, body, 330, ry);
      add(formatAmount(spec.country, amount), 'money', mono, body, 900, ry, { align: 'right' });
      add(formatAmount(spec.country, balance), 'money', mono, body, 1110, ry, { align: 'right' });
    });
  } else if (spec.layout === 'invoice') {
    add('Invoice', '', sans, 20, L, 150, { bold: true });
    add(`Date: ${dates(1)[0]}`, 'date', sans, body, 760, 150);
    add('Bill to', '', sans, body, L, 250, { bold: true });
    add(v.name, 'person', sans, body + 1, L, 250 + lh, { bold: true });
    add(v.street, 'address', sans, body, L, 250 + 2 * lh);
    add(v.town, 'address', sans, body, L, 250 + 3 * lh);
    add(`Phone: ${v.phone}`, 'phone', sans, body, L, 250 + 4 * lh);
    add(`Email: ${v.email}`, 'email', sans, body, L, 250 + 5 * lh);
    const top = 250 + 7 * lh;
    let total = 0;
    ['Consulting services', 'Travel expenses', 'Materials', 'Support contract'].forEach((d, j) => {
      const amount = rng.int(40, 2400) + rng.int(0, 99) / 100;
      total += amount;
      add(d, '', sans, body, L, top + j * lh);
      add(formatAmount(spec.country, amount), 'money', mono, body, 1110, top + j * lh, { align: 'right' });
    });
    add('Total', '', sans, body, L, top + 5 * lh, { bold: true });
    add(formatAmount(spec.country, total), 'money', mono, body, 1110, top + 5 * lh, { align: 'right', bold: true });
    if (v.iban) add(`IBAN: ${v.iban}`, 'iban', mono, body, L, top + 7 * lh);
    else add(`Account number: ${v.account}`, 'account_number', mono, body, L, top + 7 * lh);
  } else {
    add(dates(1)[0], 'date', serif, body, 900, 150);
    add(v.name, 'person', serif, body + 1, L, 230);
    add(v.street, 'address', serif, body + 1, L, 230 + lh);
    add(v.town, 'address', serif, body + 1, L, 230 + 2 * lh);
    add(`Dear ${v.name.split(' ')[0]},`, 'person', serif, body + 1, L, 230 + 5 * lh);
    const lines = ['thank you for your letter. We have updated your account and', 'will write again once the transfer has been confirmed.'];
    lines.forEach((t, i) => add(t, '', serif, body + 1, L, 230 + (6.5 + i) * lh));
    add('Kind regards,', '', serif, body + 1, L, 230 + 10 * lh);
    add(v.name, 'person', serif, body + 2, L, 230 + 12 * lh, { italic: true });
    add(`Telephone ${v.phone}`, 'phone', sans, body - 1, L, 230 + 15 * lh);
    add(v.email, 'email', sans, body - 1, L, 230 + 16 * lh);
  }
  return items;
}

interface Measured {
  item: StyleItem;
  /** Left pen x after alignment, px. */
  penX: number;
}

/** Renders a page; `replace` maps item indices to other texts drawn in the same style and place. */
export async function renderStylePage(spec: StylePageSpec, replace: ReadonlyMap<number, string> = new Map()): Promise<StylePage> {
  registerFonts();
  const items = styleItems(spec).map((it, i) => (replace.has(i) ? { ...it, text: replace.get(i)! } : it));
  const rng = new Seeded(spec.seed * 104729 + 3);
  const k = spec.scanned ? SCALE : 1;
  const paper: [number, number, number] = spec.scanned ? [246, 244, 236] : [255, 255, 255];
  const canvas = createCanvas(W * k, H * k);
  const g = canvas.getContext('2d');
  g.fillStyle = `rgb(${paper.join(',')})`;
  g.fillRect(0, 0, W * k, H * k);
  const measured: Measured[] = [];
  for (const it of items) {
    g.font = `${it.size * k}px "StylePage ${it.face}"`;
    g.fillStyle = `rgb(${it.color.join(',')})`;
    const width = g.measureText(it.text).width / k;
    const penX = it.align === 'right' ? it.x - width : it.x;
    g.fillText(it.text, penX * k, it.baseline * k);
    it.left = penX;
    it.right = penX + width;
    measured.push({ item: it, penX });
  }
  let png: Buffer = canvas.toBuffer('image/png');
  const blur = spec.scanned ? 0.6 + rng.next() * 0.5 : 0;
  const noise = spec.scanned ? 4 + rng.int(0, 3) : 0;
  if (spec.scanned) {
    const { data, info } = await sharp(png).resize(W, H, { kernel: 'lanczos3' }).blur(blur).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // Grain: an inline generator and a sum of four uniforms (near Gaussian); a method call and
    // Math lookups per byte are slow inside jest's vm context.
    let st = (spec.seed * 2654435761) >>> 0 || 1;
    const scale = noise * 1.7320508 / 2147483648;
    for (let i = 0; i < data.length; i++) {
      let u = 0;
      for (let j = 0; j < 4; j++) {
        st ^= st << 13;
        st ^= st >>> 17;
        st ^= st << 5;
        u += st >>> 1;
      }
      const v = data[i] + (u - 4294967296) * scale + 0.5;
      data[i] = v < 0 ? 0 : v > 255 ? 255 : v | 0;
    }
    png = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toBuffer();
  }
  return { spec, png, width: W, height: H, items, ocr: ocrOf(measured), paper, blur, noise };
}

/** The words of the items with their ink boxes, grouped into lines by baseline. */
function ocrOf(measured: Measured[]): OcrPage {
  const c = createCanvas(10, 10).getContext('2d');
  const words: { text: string; box: [number, number, number, number]; baseline: number }[] = [];
  for (const { item, penX } of measured) {
    c.font = `${item.size}px "StylePage ${item.face}"`;
    let offset = 0;
    for (const part of item.text.split(/( +)/)) {
      if (/^ +$/.test(part) || part === '') {
        offset += c.measureText(part).width;
        continue;
      }
      const m = c.measureText(part);
      const x = penX + offset;
      words.push({
        text: part,
        box: [Math.floor(x - m.actualBoundingBoxLeft) - 1, Math.floor(item.baseline - m.actualBoundingBoxAscent) - 1, Math.ceil(x + m.actualBoundingBoxRight) + 1, Math.ceil(item.baseline + m.actualBoundingBoxDescent) + 1],
        baseline: item.baseline,
      });
      offset += m.width;
    }
  }
  const lines = new Map<number, typeof words>();
  for (const w of words) {
    const key = [...lines.keys()].find((b) => Math.abs(b - w.baseline) < 3) ?? w.baseline;
    lines.set(key, [...(lines.get(key) ?? []), w]);
  }
  const out = [...lines.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, ws]) => {
      ws.sort((a, b) => a.box[0] - b.box[0]);
      const box: [number, number, number, number] = [Math.min(...ws.map((w) => w.box[0])), Math.min(...ws.map((w) => w.box[1])), Math.max(...ws.map((w) => w.box[2])), Math.max(...ws.map((w) => w.box[3]))];
      return { words: ws.map((w) => ({ text: w.text, box: w.box, confidence: 0.97 })), box, confidence: 0.97 };
    });
  return { width: W, height: H, lines: out, engine: 'style-page' };
}

/** The item a box lies on (the most overlap with its line and extent), -1 for none. */
export function itemAt(page: StylePage, box: readonly number[]): number {
  let best = -1;
  let bestArea = 0;
  page.items.forEach((it, i) => {
    const top = it.baseline - it.size;
    const bottom = it.baseline + 0.3 * it.size;
    const iw = Math.min(it.right + 2, box[2]) - Math.max(it.left - 2, box[0]);
    const ih = Math.min(bottom, box[3]) - Math.max(top, box[1]);
    if (iw > 0 && ih > 0 && iw * ih > bestArea) {
      bestArea = iw * ih;
      best = i;
    }
  });
  return best;
}
