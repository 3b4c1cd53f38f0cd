/**
 * Page templates of the synthetic document generator: bank statements, invoices and forms, laid
 * out as text items (each one OCR line, made of segments, some labelled as sensitive entities) and
 * simple shapes (rules, shaded bands). Pure layout: no drawing here.
 */
import type { BundledFontName } from '../../render/fonts';
import type { EntityType } from '../dataset-format';
import type { Rng } from './random';
import * as v from './values';
import { formatIban, makeIban } from './iban';

/** A run of text, optionally a sensitive entity. */
export interface Segment {
  text: string;
  entity?: EntityType;
}

/** One line of text on the page. */
export interface TextItem {
  segments: Segment[];
  /** Left x (align 'left') or right x (align 'right'), px. */
  x: number;
  baseline: number;
  font: BundledFontName;
  size: number;
  color: string;
  align: 'left' | 'right';
}

/** A filled rectangle (rules are thin rectangles). */
export interface Shape {
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
}

/** A laid-out page. */
export interface PageLayout {
  items: TextItem[];
  shapes: Shape[];
}

/** Kinds of pages. */
export type DocumentKind = 'statement' | 'invoice' | 'form';
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['statement', 'invoice', 'form'];

interface Ctx {
  rng: Rng;
  width: number;
  height: number;
  u: number;
  body: number;
  bodyFont: BundledFontName;
  ink: string;
  items: TextItem[];
  shapes: Shape[];
  dateStyle: v.DateStyle;
}

function seg(text: string, entity?: EntityType): Segment {
  return entity ? { text, entity } : { text };
}

function put(c: Ctx, segments: Segment[], x: number, baseline: number, opts: Partial<Pick<TextItem, 'font' | 'size' | 'color' | 'align'>> = {}): void {
  const segs = segments.filter((s) => s.text.length > 0);
  if (segs.length === 0) return;
  c.items.push({
    segments: segs,
    x,
    baseline,
    font: opts.font ?? c.bodyFont,
    size: opts.size ?? c.body,
    color: opts.color ?? c.ink,
    align: opts.align ?? 'left',
  });
}

function newCtx(rng: Rng, width: number, height: number): Ctx {
  const u = width / 1654;
  return {
    rng,
    width,
    height,
    u,
    body: Math.round(rng.int(24, 30) * u),
    bodyFont: rng.pick<BundledFontName>(['sans', 'sans', 'serif', 'mono']),
    ink: rng.pick(['#000000', '#111111', '#1a1a2e', '#202020', '#0b2545']),
    items: [],
    shapes: [],
    dateStyle: rng.pick<v.DateStyle>(['dmy-dot', 'iso', 'mdy-slash', 'text']),
  };
}

function addressBlock(c: Ctx, x: number, y: number, lead = 1.45): number {
  const name = v.personName(c.rng);
  const a = v.address(c.rng);
  const step = Math.round(c.body * lead);
  put(c, [seg(name, 'PERSON')], x, y);
  put(c, [seg(a.street, 'ADDRESS')], x, y + step);
  put(c, [seg(a.city, 'ADDRESS')], x, y + 2 * step);
  return y + 3 * step;
}

function tableHeader(c: Ctx, cols: { label: string; x: number; align: 'left' | 'right' }[], y: number, x0: number, x1: number): number {
  const h = Math.round(c.body * 1.9);
  const dark = c.rng.chance(0.3);
  c.shapes.push({ x: x0, y, w: x1 - x0, h, color: dark ? c.rng.pick(['#1f3a5f', '#333333', '#5a1f1f']) : c.rng.pick(['#e6e6e6', '#dfe8f1', '#eeeeee']) });
  const base = y + Math.round(h * 0.68);
  for (const col of cols) put(c, [seg(col.label)], col.x, base, { font: 'sans-bold', color: dark ? '#ffffff' : c.ink, align: col.align });
  return y + h;
}

function statement(c: Ctx): void {
  const { rng, u, width } = c;
  const m = Math.round(rng.int(110, 150) * u);
  let y = m + Math.round(40 * u);
  put(c, [seg(v.organization(rng, true), 'ORGANIZATION')], m, y, { font: 'sans-bold', size: Math.round(rng.int(42, 54) * u) });
  put(c, [seg('Account Statement')], width - m, y, { size: Math.round(34 * u), align: 'right' });
  y += Math.round(110 * u);
  const yInfo = y;
  y = addressBlock(c, m, y);
  const rx = Math.round(width * 0.55);
  const step = Math.round(c.body * 1.45);
  put(c, [seg('Statement date: '), seg(v.date(rng, c.dateStyle), 'DATE')], rx, yInfo);
  put(c, [seg('Account no: '), seg(rng.digits(10), 'ACCOUNT_NUMBER')], rx, yInfo + step);
  put(c, [seg('IBAN: '), seg(formatIban(makeIban(rng)), 'IBAN')], rx, yInfo + 2 * step);
  put(c, [seg('Customer ID: '), seg(v.reference(rng, 'C'), 'ID_NUMBER')], rx, yInfo + 3 * step);
  y = Math.max(y, yInfo + 4 * step) + Math.round(60 * u);
  const x1 = width - m;
  const cols = [
    { label: 'Date', x: m + Math.round(12 * u), align: 'left' as const },
    { label: 'Description', x: m + Math.round(260 * u), align: 'left' as const },
    { label: 'Amount', x: x1 - Math.round(300 * u), align: 'right' as const },
    { label: 'Balance', x: x1 - Math.round(12 * u), align: 'right' as const },
  ];
  y = tableHeader(c, cols, y, m, x1);
  const rowH = Math.round(c.body * rng.float(1.7, 2.1));
  const rows = rng.int(10, 18);
  let balance = rng.float(500, 20000);
  const rules = rng.chance(0.5);
  for (let i = 0; i < rows && y + rowH < c.height - 3 * m; i++) {
    const base = y + Math.round(rowH * 0.7);
    const amt = Math.round(rng.float(-1500, 1200) * 100) / 100;
    balance += amt;
    const label = v.paymentLabel(rng);
    const who = rng.chance(0.5) ? seg(v.personName(rng), 'PERSON') : seg(v.organization(rng), 'ORGANIZATION');
    put(c, [seg(v.date(rng, c.dateStyle), 'DATE')], cols[0].x, base);
    put(c, [seg(`${label} `), who], cols[1].x, base);
    put(c, [seg(v.formatAmount(amt), 'AMOUNT')], cols[2].x, base, { align: 'right' });
    put(c, [seg(v.formatAmount(balance), 'AMOUNT')], cols[3].x, base, { align: 'right' });
    y += rowH;
    if (rules) c.shapes.push({ x: m, y, w: x1 - m, h: Math.max(1, Math.round(u)), color: '#c8c8c8' });
  }
  y += Math.round(60 * u);
  put(c, [seg('Customer service: '), seg(v.phone(rng), 'PHONE')], m, y, { size: Math.round(c.body * 0.85) });
}

function invoice(c: Ctx): void {
  const { rng, u, width } = c;
  const m = Math.round(rng.int(110, 150) * u);
  let y = m + Math.round(40 * u);
  const org = v.organization(rng);
  const oa = v.address(rng);
  put(c, [seg(org, 'ORGANIZATION')], m, y, { font: 'sans-bold', size: Math.round(rng.int(40, 50) * u) });
  const small = Math.round(c.body * 0.85);
  put(c, [seg(oa.street, 'ADDRESS'), seg(', '), seg(oa.city, 'ADDRESS')], m, y + Math.round(50 * u), { size: small });
  put(c, [seg('INVOICE')], width - m, y, { font: 'sans-bold', size: Math.round(56 * u), align: 'right' });
  y += Math.round(170 * u);
  const step = Math.round(c.body * 1.45);
  put(c, [seg('Bill to:')], m, y, { font: 'sans-bold' });
  addressBlock(c, m, y + step);
  const rx = Math.round(width * 0.58);
  put(c, [seg('Invoice no: '), seg(v.reference(rng, 'INV'), 'ID_NUMBER')], rx, y);
  put(c, [seg('Invoice date: '), seg(v.date(rng, c.dateStyle), 'DATE')], rx, y + step);
  put(c, [seg('Due date: '), seg(v.date(rng, c.dateStyle), 'DATE')], rx, y + 2 * step);
  y += 5 * step + Math.round(40 * u);
  const x1 = width - m;
  const cols = [
    { label: 'Description', x: m + Math.round(12 * u), align: 'left' as const },
    { label: 'Qty', x: x1 - Math.round(560 * u), align: 'right' as const },
    { label: 'Unit price', x: x1 - Math.round(300 * u), align: 'right' as const },
    { label: 'Total', x: x1 - Math.round(12 * u), align: 'right' as const },
  ];
  y = tableHeader(c, cols, y, m, x1);
  const rowH = Math.round(c.body * rng.float(1.7, 2.1));
  let subtotal = 0;
  for (let i = rng.int(4, 10); i > 0; i--) {
    const base = y + Math.round(rowH * 0.7);
    const q = rng.int(1, 20);
    const p = Math.round(rng.float(5, 400) * 100) / 100;
    subtotal += q * p;
    put(c, [seg(v.goods(rng))], cols[0].x, base);
    put(c, [seg(String(q))], cols[1].x, base, { align: 'right' });
    put(c, [seg(v.formatAmount(p), 'AMOUNT')], cols[2].x, base, { align: 'right' });
    put(c, [seg(v.formatAmount(q * p), 'AMOUNT')], cols[3].x, base, { align: 'right' });
    y += rowH;
    c.shapes.push({ x: m, y, w: x1 - m, h: Math.max(1, Math.round(u)), color: '#d0d0d0' });
  }
  y += Math.round(30 * u);
  const tax = subtotal * 0.2;
  for (const [label, val] of [['Subtotal', subtotal], ['Tax 20%', tax], ['Total due', subtotal + tax]] as const) {
    y += step;
    put(c, [seg(label)], cols[2].x - Math.round(120 * u), y, { align: 'right', font: label === 'Total due' ? 'sans-bold' : c.bodyFont });
    put(c, [seg(v.formatAmount(val), 'AMOUNT')], cols[3].x, y, { align: 'right', font: label === 'Total due' ? 'sans-bold' : c.bodyFont });
  }
  y += Math.round(120 * u);
  put(c, [seg('Please pay to IBAN '), seg(formatIban(makeIban(rng)), 'IBAN')], m, y);
  const contact = v.personName(rng);
  put(c, [seg('Contact: '), seg(contact, 'PERSON'), seg(' '), seg(v.email(rng, contact), 'EMAIL')], m, y + step, { size: small });
}

function form(c: Ctx): void {
  const { rng, u, width } = c;
  const m = Math.round(rng.int(110, 150) * u);
  let y = m + Math.round(50 * u);
  put(c, [seg(rng.pick(['Customer Registration Form', 'Account Application', 'Change of Details Form']))], m, y, {
    font: 'sans-bold',
    size: Math.round(rng.int(40, 50) * u),
  });
  y += Math.round(50 * u);
  put(c, [seg('Issued by '), seg(v.organization(rng), 'ORGANIZATION')], m, y, { size: Math.round(c.body * 0.85) });
  y += Math.round(120 * u);
  const name = v.personName(rng);
  const a = v.address(rng);
  const fields: [string, Segment][] = [
    ['Full name', seg(name, 'PERSON')],
    ['Date of birth', seg(v.date(rng, c.dateStyle), 'DATE')],
    ['Street', seg(a.street, 'ADDRESS')],
    ['City', seg(a.city, 'ADDRESS')],
    ['Phone', seg(v.phone(rng), 'PHONE')],
    ['Email', seg(v.email(rng, name), 'EMAIL')],
    ['IBAN', seg(formatIban(makeIban(rng)), 'IBAN')],
    ['Customer ID', seg(v.reference(rng, 'C'), 'ID_NUMBER')],
    ['Monthly income', seg(v.amount(rng, 9000), 'AMOUNT')],
  ];
  const valueX = m + Math.round(rng.int(380, 460) * u);
  const valueFont = rng.pick<BundledFontName>(['mono', 'serif', 'sans']);
  const rowH = Math.round(c.body * rng.float(2.4, 3.0));
  for (const [label, value] of fields) {
    put(c, [seg(`${label}:`)], m, y);
    put(c, [value], valueX, y, { font: valueFont, color: rng.chance(0.3) ? '#0a2a8a' : c.ink });
    c.shapes.push({ x: valueX, y: y + Math.round(c.body * 0.45), w: width - m - valueX, h: Math.max(1, Math.round(u)), color: '#999999' });
    y += rowH;
  }
  y += Math.round(80 * u);
  put(c, [seg('Signed on '), seg(v.date(rng, c.dateStyle), 'DATE'), seg(' by '), seg(name, 'PERSON')], m, y);
}

/** Lays out one page of `kind`. */
export function layoutPage(kind: DocumentKind, rng: Rng, width: number, height: number): PageLayout {
  const c = newCtx(rng, width, height);
  if (kind === 'statement') statement(c);
  else if (kind === 'invoice') invoice(c);
  else form(c);
  return { items: c.items, shapes: c.shapes };
}
