/**
 * Hard pages for the privacy rule "nothing sensitive readable, or refused": a statement written
 * here (not by the training generator, whose templates the detector was tuned on) with six
 * sensitive values of known text (name, IBAN, card, account number, email, phone) and a table of
 * transactions, rendered at 300 dpi and then degraded the way real scans are: turned, skewed,
 * printed small, faint, negative, noisy, blurred, photographed (perspective and shading), in two
 * columns, on coloured paper, over a table grid, as a low-quality JPEG.
 */
import * as path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import sharp from 'sharp';
import { ibanCheck, luhnDigit } from './check-digits';

const FONT_DIR = path.join(__dirname, '..', '..', 'assets', 'fonts');
const FAMILIES = {
  sans: { file: 'DejaVuSans.ttf', name: 'HardPage Sans' },
  serif: { file: 'DejaVuSerif.ttf', name: 'HardPage Serif' },
  mono: { file: 'DejaVuSansMono.ttf', name: 'HardPage Mono' },
} as const;
type Family = keyof typeof FAMILIES;
let registered = false;
function registerFonts(): void {
  if (registered) return;
  for (const f of Object.values(FAMILIES)) GlobalFonts.registerFromPath(path.join(FONT_DIR, f.file), f.name);
  registered = true;
}

/** A small seeded generator (mulberry32). */
export class Seeded {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(i === 0 ? 1 : 0, 9));
    return s;
  }
}

const GIVEN = ['Margaret', 'Thomas', 'Oliver', 'Charlotte', 'Henrik', 'Amelia', 'Jonas', 'Beatrice', 'Samuel', 'Eleanor', 'Victor', 'Rosalind'];
const FAMILY = ['Whitfield', 'Lindqvist', 'Okafor', 'Castellano', 'Brennan', 'Hartmann', 'Fairbairn', 'Nakamura', 'Pemberton', 'Delacroix', 'Sorensen', 'Ashworth'];
const STREETS = ['Maple Avenue', 'Kingsway', 'Elm Street', 'Harbour Road', 'Station Lane', 'Mill Close'];
const TOWNS = ['Leeds LS1 4AP', 'Bristol BS8 1TH', 'York YO1 7HH', 'Bath BA1 1LZ', 'Derby DE1 2FS'];
const PAYEES = ['Northgate Energy', 'City Water Ltd', 'Parkside Dental', 'Metro Rail', 'Corner Grocer', 'Bluebird Cafe', 'Summit Insurance', 'Riverside Gym'];
const BANKS = ['Crestline Bank', 'Harbourview Savings', 'Meridian Trust Bank', 'Oakridge Mutual'];

/** The language of a page: its words, names, places, and how it writes numbers and dates. */
export type PageLanguage = 'eng' | 'deu' | 'fra';

interface Locale {
  given: readonly string[];
  family: readonly string[];
  streets: (rng: Seeded) => string;
  towns: readonly string[];
  banks: readonly string[];
  payees: readonly string[];
  iban: (rng: Seeded) => { iban: string; account: string };
  phone: (rng: Seeded) => string;
  domains: readonly string[];
  amount: (v: number) => string;
  date: (day: number) => string;
  labels: { title: string; holder: string; address: string; account: string; iban: string; card: string; email: string; phone: string; head: [string, string, string, string]; footer: string };
}

/** A French RIB key: 97 - (89 bank + 15 branch + 3 account) mod 97 (digits-only accounts). */
function ribKey(bank: string, branch: string, account: string): string {
  const r = (89 * Number(bank) + 15 * Number(branch) + 3 * Number(account)) % 97;
  return String(97 - r).padStart(2, '0');
}

const group4 = (s: string): string => s.replace(/(.{4})(?=.)/g, '$1 ');

const LOCALES: Record<PageLanguage, Locale> = {
  eng: {
    given: GIVEN,
    family: FAMILY,
    streets: (rng) => `${rng.int(2, 180)} ${rng.pick(STREETS)}`,
    towns: TOWNS,
    banks: BANKS,
    payees: PAYEES,
    iban: (rng) => {
      // GB: 4-letter bank code, 6-digit sort code, 8-digit account.
      const account = rng.digits(8);
      const bban = rng.pick(['NWBK', 'BARC', 'MIDL', 'LOYD']) + rng.digits(6) + account;
      return { iban: group4(`GB${ibanCheck('GB', bban)}${bban}`), account };
    },
    phone: (rng) => `+44 20 7946 ${rng.digits(4)}`,
    domains: ['mailbox.co.uk', 'example.org', 'postmail.net'],
    amount: (v) => v.toFixed(2),
    date: (d) => `${String(d).padStart(2, '0')}/03/2026`,
    labels: {
      title: 'Statement of account', holder: 'Account holder', address: 'Address', account: 'Account number', iban: 'IBAN', card: 'Card number',
      email: 'Email', phone: 'Telephone', head: ['Date', 'Description', 'Amount', 'Balance'],
      footer: 'Thank you for banking with us. Please check this statement and tell us of any error within 30 days.',
    },
  },
  deu: {
    given: ['Jürgen', 'Sabine', 'Matthias', 'Katharina', 'Günter', 'Ulrike', 'Tobias', 'Annegret', 'Wolfgang', 'Brigitte'],
    family: ['Müller', 'Schröder', 'Weißmann', 'Hoffmann', 'Krüger', 'Baumgärtner', 'Schmidt', 'Böhm', 'Fischer', 'Lehmann'],
    streets: (rng) => `${rng.pick(['Hauptstraße', 'Lindenallee', 'Gartenweg', 'Schillerstraße', 'Am Markt'])} ${rng.int(2, 120)}`,
    towns: ['10115 Berlin', '80331 München', '50667 Köln', '20095 Hamburg', '04109 Leipzig'],
    banks: ['Stadtsparkasse Nordheim', 'Volksbank Mittelland', 'Rheintal Bank AG'],
    payees: ['Stadtwerke Nordheim', 'Bäckerei Sonnenschein', 'Krankenkasse Süd', 'Deutsche Bahn', 'Apotheke am Markt', 'Mietzahlung Hausverwaltung'],
    iban: (rng) => {
      // DE: 8-digit bank code (BLZ), 10-digit account.
      const account = rng.digits(10);
      const bban = rng.digits(8) + account;
      return { iban: group4(`DE${ibanCheck('DE', bban)}${bban}`), account };
    },
    phone: (rng) => `030 ${rng.digits(7)}`,
    domains: ['web.de', 'posteo.de', 'mailbox.org'],
    amount: (v) => v.toFixed(2).replace('.', ',').replace(/\B(?=(\d{3})+,)/g, '.'),
    date: (d) => `${String(d).padStart(2, '0')}.03.2026`,
    labels: {
      title: 'Kontoauszug', holder: 'Kontoinhaber', address: 'Anschrift', account: 'Kontonummer', iban: 'IBAN', card: 'Kartennummer',
      email: 'E-Mail', phone: 'Telefon', head: ['Datum', 'Verwendungszweck', 'Betrag', 'Saldo'],
      footer: 'Bitte prüfen Sie diesen Kontoauszug und teilen Sie uns Einwände innerhalb von sechs Wochen mit.',
    },
  },
  fra: {
    given: ['Hélène', 'François', 'Amélie', 'Jérôme', 'Cécile', 'Benoît', 'Geneviève', 'Stéphane', 'Océane', 'Grégoire'],
    family: ['Lefèvre', 'Dubois', 'Moreau', 'Girard', 'Rousseau', 'Fontaine', 'Lemaître', 'Chevalier', 'Bérard', 'Mercier'],
    streets: (rng) => `${rng.int(2, 120)} ${rng.pick(['rue de la Paix', 'avenue Victor Hugo', 'boulevard Voltaire', 'rue des Lilas', 'place du Marché'])}`,
    towns: ['75002 Paris', '69001 Lyon', '13001 Marseille', '31000 Toulouse', '33000 Bordeaux'],
    banks: ['Banque du Littoral', 'Crédit Régional de l’Ouest', 'Caisse Populaire du Rhône'],
    payees: ['Électricité de Provence', 'Boulangerie Martin', 'SNCF Voyageurs', 'Pharmacie Centrale', 'Loyer Agence Immobilière', 'Mutuelle Santé'],
    iban: (rng) => {
      // FR: 5-digit bank, 5-digit branch, 11-digit account, 2-digit RIB key.
      const bank = rng.digits(5);
      const branch = rng.digits(5);
      const account = rng.digits(11);
      const bban = bank + branch + account + ribKey(bank, branch, account);
      return { iban: group4(`FR${ibanCheck('FR', bban)}${bban}`), account };
    },
    phone: (rng) => `01 ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)}`.replace(/ 0/, ' 4'),
    domains: ['orange.fr', 'laposte.net', 'free.fr'],
    amount: (v) => v.toFixed(2).replace('.', ',').replace(/\B(?=(\d{3})+,)/g, '\u202f'),
    date: (d) => `${String(d).padStart(2, '0')}/03/2026`,
    labels: {
      title: 'Relevé de compte', holder: 'Titulaire du compte', address: 'Adresse', account: 'Numéro de compte', iban: 'IBAN', card: 'Numéro de carte',
      email: 'Courriel', phone: 'Téléphone', head: ['Date', 'Libellé', 'Montant', 'Solde'],
      footer: 'Veuillez vérifier ce relevé et nous signaler toute erreur dans un délai de trente jours.',
    },
  },
};

/** An email local part from a name, without accents ("Hélène Lefèvre" -> "helene.lefevre"). */
function emailLocal(given: string, family: string): string {
  const plain = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'ss').toLowerCase();
  return `${plain(given)}.${plain(family)}`;
}

/** The sensitive values of a page, as printed. */
export interface HardPageValues {
  name: string;
  iban: string;
  card: string;
  account: string;
  email: string;
  phone: string;
}

/** Draws six valid sensitive values (checksums hold) and the rest of a statement, in a language. */
export function statementValues(rng: Seeded, language: PageLanguage = 'eng'): HardPageValues & { street: string; town: string; bank: string; rows: string[][]; language: PageLanguage } {
  const loc = LOCALES[language];
  const given = rng.pick(loc.given);
  const family = rng.pick(loc.family);
  const { iban, account } = loc.iban(rng);
  // 16 digits (Visa 4..., Mastercard 51-53...), the last one the Luhn check digit.
  const prefix = rng.pick(['4', '51', '53']);
  const body = prefix + rng.digits(15 - prefix.length);
  const card = group4(body + luhnDigit(body));
  const email = `${emailLocal(given, family)}@${rng.pick(loc.domains)}`;
  const phone = loc.phone(rng);
  const rows: string[][] = [];
  let balance = rng.int(2000, 9000) + rng.int(0, 99) / 100;
  for (let i = 0; i < 8; i++) {
    const amount = (rng.next() < 0.7 ? -1 : 1) * (rng.int(5, 900) + rng.int(0, 99) / 100);
    balance += amount;
    rows.push([loc.date(2 + i * 3), rng.pick(loc.payees), loc.amount(amount), loc.amount(balance)]);
  }
  return { name: `${given} ${family}`, iban, card, account, email, phone, street: loc.streets(rng), town: rng.pick(loc.towns), bank: rng.pick(loc.banks), rows, language };
}

/** Layout and rendering choices of a page. */
export interface HardPageStyle {
  family: Family;
  /** Two columns of fields instead of one block. */
  columns: 1 | 2;
  /** Paper and ink colours (CSS). */
  paper: string;
  ink: string;
  /** Draw a ruled grid through the transaction table. */
  grid: boolean;
}

/** Renders the statement at 300 dpi (A4: 2480 x 3508). Returns PNG bytes. */
export function renderStatement(v: ReturnType<typeof statementValues>, style: HardPageStyle): Buffer {
  registerFonts();
  const W = 2480;
  const H = 3508;
  const canvas = createCanvas(W, H);
  const g = canvas.getContext('2d');
  g.fillStyle = style.paper;
  g.fillRect(0, 0, W, H);
  g.fillStyle = style.ink;
  g.strokeStyle = style.ink;
  const font = (pt: number, bold = false): string => `${bold ? 'bold ' : ''}${Math.round((pt * 300) / 72)}px "${FAMILIES[style.family].name}"`;
  const text = (t: string, x: number, y: number, pt = 11, bold = false): void => {
    g.font = font(pt, bold);
    g.fillText(t, x, y);
  };
  const L = 200;
  const lab = LOCALES[v.language].labels;
  text(v.bank, L, 300, 20, true);
  text(lab.title, 1500, 300, 14);
  const fields: [string, string][] = [
    [lab.holder, v.name],
    [lab.address, v.street],
    ['', v.town],
    [lab.account, v.account],
    [lab.iban, v.iban],
    [lab.card, v.card],
    [lab.email, v.email],
    [lab.phone, v.phone],
  ];
  const lh = 75;
  if (style.columns === 1) {
    fields.forEach(([label, value], i) => {
      if (label) text(`${label}:`, L, 520 + i * lh);
      text(value, L + 560, 520 + i * lh);
    });
  } else {
    fields.forEach(([label, value], i) => {
      const col = i < 4 ? 0 : 1;
      const row = i % 4;
      const x = col === 0 ? L : 1320;
      if (label) text(`${label}:`, x, 520 + row * 2 * lh);
      text(value, x, 520 + row * 2 * lh + lh);
    });
  }
  const top = 1300;
  const cols = [L, 600, 1500, 1950];
  lab.head.forEach((h, i) => text(h, cols[i], top, 11, true));
  v.rows.forEach((r, j) => r.forEach((c, i) => text(c, cols[i], top + 90 + j * 80, 11)));
  if (style.grid) {
    g.lineWidth = 3;
    for (let j = 0; j <= v.rows.length + 1; j++) {
      const y = top - 60 + j * 80 + (j > 0 ? 10 : 0);
      g.beginPath();
      g.moveTo(L - 30, y);
      g.lineTo(2300, y);
      g.stroke();
    }
    for (const x of [L - 30, 570, 1470, 1920, 2300]) {
      g.beginPath();
      g.moveTo(x, top - 60);
      g.lineTo(x, top - 60 + (v.rows.length + 1) * 80 + 10);
      g.stroke();
    }
  }
  text(lab.footer, L, 2400, 9);
  return canvas.toBuffer('image/png');
}

/** What was done to a rendered page. */
export interface Degradation {
  /** Clockwise turn of the whole sheet. */
  turn?: 0 | 90 | 180 | 270;
  /** Small skew in degrees (clockwise). */
  skew?: number;
  /** Scan resolution (default 150). */
  dpi?: number;
  faint?: boolean;
  invert?: boolean;
  /** Gaussian noise sigma (0..255 units). */
  noise?: number;
  blur?: number;
  /** Perspective (camera) distortion and uneven lighting. */
  photo?: boolean;
  jpegQuality?: number;
}

/** Bilinear perspective warp with shading (a phone photo of the sheet). Test helper: plain loops are fine. */
async function photograph(png: Buffer, rng: Seeded): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h, channels: c } = info;
  const out = Buffer.alloc(w * h * c);
  // Corners of the sheet in the photo (pulled in by up to 6%).
  const j = (): number => rng.next() * 0.06;
  const q = [
    [w * j(), h * j()],
    [w * (1 - j()), h * j()],
    [w * (1 - j()), h * (1 - j())],
    [w * j(), h * (1 - j())],
  ];
  const bg = [70, 66, 60];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse bilinear map by Newton steps from the photo point to sheet coordinates (u, v).
      let u = x / w;
      let v = y / h;
      for (let k = 0; k < 6; k++) {
        const px = (1 - u) * (1 - v) * q[0][0] + u * (1 - v) * q[1][0] + u * v * q[2][0] + (1 - u) * v * q[3][0];
        const py = (1 - u) * (1 - v) * q[0][1] + u * (1 - v) * q[1][1] + u * v * q[2][1] + (1 - u) * v * q[3][1];
        const dxu = -(1 - v) * q[0][0] + (1 - v) * q[1][0] + v * q[2][0] - v * q[3][0];
        const dxv = -(1 - u) * q[0][0] - u * q[1][0] + u * q[2][0] + (1 - u) * q[3][0];
        const dyu = -(1 - v) * q[0][1] + (1 - v) * q[1][1] + v * q[2][1] - v * q[3][1];
        const dyv = -(1 - u) * q[0][1] - u * q[1][1] + u * q[2][1] + (1 - u) * q[3][1];
        const det = dxu * dyv - dxv * dyu;
        const ex = x - px;
        const ey = y - py;
        u += (dyv * ex - dxv * ey) / det;
        v += (-dyu * ex + dxu * ey) / det;
      }
      const o = (y * w + x) * c;
      if (u < 0 || u > 1 || v < 0 || v > 1) {
        for (let ch = 0; ch < c; ch++) out[o + ch] = bg[ch % 3];
        continue;
      }
      const sx = u * (w - 1);
      const sy = v * (h - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      // Light falls off towards one corner.
      const shade = 1 - 0.35 * Math.min(1, Math.hypot(u - 0.1, v - 0.05) / 1.3);
      for (let ch = 0; ch < c; ch++) {
        const a = data[(y0 * w + x0) * c + ch] * (1 - fx) + data[(y0 * w + x1) * c + ch] * fx;
        const b = data[(y1 * w + x0) * c + ch] * (1 - fx) + data[(y1 * w + x1) * c + ch] * fx;
        out[o + ch] = Math.round((a * (1 - fy) + b * fy) * shade);
      }
    }
  }
  return sharp(out, { raw: { width: w, height: h, channels: c } }).png().toBuffer();
}

/** Applies a degradation to a 300-dpi page; returns the scan (PNG, or JPEG with `jpegQuality`). */
export async function degrade(png300: Buffer, d: Degradation, rng: Seeded): Promise<Buffer> {
  const dpi = d.dpi ?? 150;
  const meta = await sharp(png300).metadata();
  // Scanner: the sheet at `dpi` (area-averaged), then the sheet's turn and skew.
  let img: Buffer = await sharp(png300).resize({ width: Math.round((meta.width! * dpi) / 300), kernel: 'lanczos3' }).png().toBuffer();
  if (d.photo) img = await photograph(img, rng);
  if (d.skew) img = await sharp(img).rotate(d.skew, { background: '#ffffff' }).png().toBuffer();
  if (d.turn) img = await sharp(img).rotate(d.turn).png().toBuffer();
  let s = sharp(img);
  if (d.faint) s = s.linear(0.3, 178);
  if (d.invert) s = s.negate({ alpha: false });
  if (d.blur) s = s.blur(d.blur);
  img = await s.png().toBuffer();
  if (d.noise) {
    const { data, info } = await sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i++) {
      // Box-Muller noise, clamped.
      const n = Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next());
      data[i] = Math.max(0, Math.min(255, Math.round(data[i] + n * d.noise)));
    }
    img = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toBuffer();
  }
  if (d.jpegQuality) return sharp(img).jpeg({ quality: d.jpegQuality }).toBuffer();
  return img;
}

/** A named hard-page case. */
export interface HardPageCase {
  name: string;
  style: Partial<HardPageStyle>;
  degradation: Degradation;
}

/** The hard-page suite: every kind of page the issue lists, each alone. */
export const HARD_PAGE_CASES: readonly HardPageCase[] = [
  { name: 'upright, light noise', style: {}, degradation: { noise: 6 } },
  { name: 'turned 90', style: {}, degradation: { turn: 90 } },
  { name: 'turned 180', style: {}, degradation: { turn: 180 } },
  { name: 'turned 270', style: {}, degradation: { turn: 270 } },
  { name: 'skewed 3', style: {}, degradation: { skew: 3 } },
  { name: 'skewed -7', style: {}, degradation: { skew: -7 } },
  { name: 'small print 100 dpi', style: {}, degradation: { dpi: 100 } },
  { name: 'small print 75 dpi', style: {}, degradation: { dpi: 75 } },
  { name: 'small print 67 dpi (45%)', style: {}, degradation: { dpi: 67 } },
  { name: 'turned 90, 100 dpi', style: {}, degradation: { turn: 90, dpi: 100 } },
  { name: 'faint', style: {}, degradation: { faint: true } },
  { name: 'inverted', style: {}, degradation: { invert: true } },
  { name: 'noisy', style: {}, degradation: { noise: 28 } },
  { name: 'blurred', style: {}, degradation: { blur: 1.2 } },
  { name: 'very blurred', style: {}, degradation: { blur: 3 } },
  { name: 'photographed', style: {}, degradation: { photo: true } },
  { name: 'two columns, serif', style: { columns: 2, family: 'serif' }, degradation: {} },
  { name: 'coloured paper, blue ink', style: { paper: '#f3e7c4', ink: '#1d2f6b' }, degradation: {} },
  { name: 'table grid, mono', style: { grid: true, family: 'mono' }, degradation: {} },
  { name: 'JPEG quality 30', style: {}, degradation: { jpegQuality: 30 } },
];

/** A generated hard page and what it holds. */
export interface HardPage {
  case: HardPageCase;
  image: Buffer;
  values: HardPageValues;
}

/** Builds one case's page for a seed, in a language (English by default). */
export async function makeHardPage(c: HardPageCase, seed: number, language: PageLanguage = 'eng'): Promise<HardPage> {
  const rng = new Seeded(seed);
  const v = statementValues(rng, language);
  const style: HardPageStyle = { family: 'sans', columns: 1, paper: '#ffffff', ink: '#111111', grid: false, ...c.style };
  const png = renderStatement(v, style);
  const image = await degrade(png, c.degradation, rng);
  const { name, iban, card, account, email, phone } = v;
  return { case: c, image, values: { name, iban, card, account, email, phone } };
}

/**
 * Letters and digits, lower case, accents folded: an OCR that reads "Jérôme Lemaître" as "Jerome
 * Lemaitre" has still read the name (a leak check that kept the accents would miss that).
 */
export function squash(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}
