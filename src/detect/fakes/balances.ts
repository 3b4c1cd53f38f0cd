/**
 * Running balances that still add up: on a statement whose rows carry an amount and the balance
 * after it (balance = previous balance + amount, in page order or newest first), the fake balances
 * are computed from the fake amounts, starting from the fake of the first balance, and written in
 * the balance column's format (currency, grouping, decimals, sign style). Amounts themselves are
 * faked as any amount (sign, decimals, grouping, currency and magnitude kept).
 */

/** How an amount is written. */
export interface AmountFormat {
  /** Text before the digits (currency, sign) and after them. */
  prefix: string;
  suffix: string;
  /** Grouping separator ('' when none) and decimal separator ('' when no decimals). */
  group: string;
  decimal: string;
  decimals: number;
  /** How a negative value is marked. */
  negative: 'minus' | 'parens' | 'trailing' | 'none';
}

/** A parsed amount. */
export interface ParsedAmount {
  value: number;
  format: AmountFormat;
}

/**
 * Reads an amount ("-1,234.56", "1.234,56 €", "(45.00)", "£12.50", "120.00-"). The decimal
 * separator is the last '.' or ',' followed by exactly one or two digits at the end of the number;
 * undefined when the text has no digits.
 */
export function parseAmount(text: string): ParsedAmount | undefined {
  const first = text.search(/\d/);
  if (first < 0) return undefined;
  let last = first;
  for (let i = first; i < text.length; i++) if (/\d/.test(text[i])) last = i;
  const num = text.slice(first, last + 1);
  let prefix = text.slice(0, first);
  let suffix = text.slice(last + 1);
  const dec = /([.,])(\d{1,2})$/.exec(num);
  const intPart = dec ? num.slice(0, dec.index) : num;
  const groupChar = /[^\d]/.exec(intPart)?.[0] ?? '';
  if (groupChar && !/^[.,' \u00a0\u202f]$/.test(groupChar)) return undefined;
  const intDigits = intPart.replace(/\D/g, '');
  let value = Number(`${intDigits}.${dec ? dec[2] : '0'}`);
  let negative: AmountFormat['negative'] = 'none';
  if (/[-\u2212]\s*$/.test(prefix) || /^[-\u2212]/.test(prefix)) {
    negative = 'minus';
    value = -value;
    prefix = prefix.replace(/[-\u2212]/, '\u0000');
  } else if (/\(/.test(prefix) && /\)/.test(suffix)) {
    negative = 'parens';
    value = -value;
    prefix = prefix.replace('(', '\u0000');
    suffix = suffix.replace(')', '\u0001');
  } else if (/^[-\u2212]/.test(suffix)) {
    negative = 'trailing';
    value = -value;
    suffix = suffix.replace(/[-\u2212]/, '\u0001');
  }
  return { value, format: { prefix, suffix, group: groupChar, decimal: dec ? dec[1] : '', decimals: dec ? dec[2].length : 0, negative } };
}

/** Writes `value` in `format` (a negative value in a format without a sign style gets a leading minus). */
export function formatAmount(value: number, format: AmountFormat): string {
  const neg = value < 0;
  const fixed = Math.abs(value).toFixed(format.decimals);
  const [int, frac] = fixed.split('.');
  const grouped = format.group ? int.replace(/\B(?=(\d{3})+(?!\d))/g, format.group) : int;
  const num = grouped + (format.decimals > 0 ? format.decimal + frac : '');
  const style = format.negative === 'none' ? 'minus' : format.negative;
  const mark = (s: string, open: string, close: string): string => s.replace('\u0000', open).replace('\u0001', close);
  if (!neg) return mark(format.prefix, '', '') + num + mark(format.suffix, '', '');
  if (style === 'parens') return mark(format.prefix, '(', '') + num + mark(format.suffix, '', ')');
  if (style === 'trailing') return mark(format.prefix, '', '') + num + (format.suffix.includes('\u0001') ? mark(format.suffix, '', '-') : '-' + format.suffix);
  return format.prefix.includes('\u0000') ? mark(format.prefix, '-', '') + num + mark(format.suffix, '', '') : '-' + format.prefix + num + mark(format.suffix, '', '');
}

/** A money value on the page and the line it is on. */
export interface MoneyCell {
  /** Index of the value in the caller's list. */
  id: number;
  line: number;
  text: string;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 0.005;

/**
 * Finds a balance column (rows of at least two amounts, the last being the balance after the one
 * before it) and returns the fake text of every balance cell in the chain, computed from `fake`
 * (the fake of any amount); a row that does not follow from the one before starts the chain again
 * from its own balance's fake. Empty when fewer than two rows, or fewer than half, add up.
 */
export function balanceFakes(cells: readonly MoneyCell[], fake: (text: string) => string): Map<number, string> {
  const byLine = new Map<number, MoneyCell[]>();
  for (const c of cells) byLine.set(c.line, [...(byLine.get(c.line) ?? []), c]);
  const rows = [...byLine.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, cs]) => cs)
    .filter((cs) => cs.length >= 2)
    .map((cs) => ({ amount: cs[cs.length - 2], balance: cs[cs.length - 1], a: parseAmount(cs[cs.length - 2].text), b: parseAmount(cs[cs.length - 1].text) }))
    .filter((r) => r.a && r.b) as Array<{ amount: MoneyCell; balance: MoneyCell; a: ParsedAmount; b: ParsedAmount }>;
  const out = new Map<number, string>();
  if (rows.length < 3) return out;
  // Page order (oldest first) or newest first: whichever the rows follow.
  const forward = rows.slice(1).filter((r, i) => close(rows[i].b.value + r.a.value, r.b.value)).length;
  const backward = rows.slice(0, -1).filter((r, i) => close(rows[i + 1].b.value + r.a.value, r.b.value)).length;
  const links = Math.max(forward, backward);
  // At least two rows that add up, and most of them (an OCR reading that missed a cell breaks a link,
  // not the column: the chain restarts after it).
  if (links < 2 || links < 0.5 * (rows.length - 1)) return out;
  const order = forward >= backward ? rows : [...rows].reverse();
  let prev: { orig: number; fake: number } | undefined;
  for (const r of order) {
    const fa = parseAmount(fake(r.amount.text))?.value ?? r.a.value;
    let fb: number;
    if (prev && close(prev.orig + r.a.value, r.b.value)) fb = prev.fake + fa;
    else fb = parseAmount(fake(r.balance.text))?.value ?? r.b.value;
    fb = Math.round(fb * 10 ** r.b.format.decimals) / 10 ** r.b.format.decimals;
    out.set(r.balance.id, formatAmount(fb, r.b.format));
    prev = { orig: r.b.value, fake: fb };
  }
  return out;
}
