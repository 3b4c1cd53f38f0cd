/**
 * Scores detection on the labelled short texts (labelled-cases.ts): each text becomes a one-line
 * (or few-line) OCR page of its words, `findEntities` runs with the default policy, and per entity
 * type and per language we count
 * - truth / found: labelled values, and those whose every non-space character a detection of the
 *   same type covers (a value found in two pieces counts; one half found does not);
 * - predicted / correct: detections, and those that overlap a labelled value of the same type
 *   (anything else, on a negative text too, is a false positive).
 */
import { findEntities } from '../../src/detect/detect';
import { buildPageText } from '../../src/detect/text';
import type { OcrPage } from '../../src/detect/types';
import { LABELLED_CASES, type LabelledCase } from './labelled-cases';
import { rates, type TypeCounts } from './detect-eval';

/** A page whose lines are the text's lines and whose words are its space-separated tokens. */
export function pageOf(text: string): OcrPage {
  let y = 0;
  return {
    width: 2000,
    height: 40 * (text.split('\n').length + 1),
    engine: 'labelled',
    lines: text.split('\n').map((line) => {
      let x = 0;
      const words = line.split(' ').filter(Boolean).map((w) => {
        const box: [number, number, number, number] = [x, y, x + 10 * w.length, y + 30];
        x += 10 * w.length + 10;
        return { text: w, box, confidence: 1 };
      });
      y += 40;
      return { words, box: [0, y - 40, Math.max(1, x), y - 10] as [number, number, number, number], confidence: 1 };
    }),
  };
}

/** A miss or a false positive, for the report. */
export interface EvalProblem {
  kind: 'miss' | 'false positive';
  lang: string;
  type: string;
  value: string;
  text: string;
}

/** Counts per entity type, per language, and the problems found. */
export interface LabelledResult {
  byType: Record<string, TypeCounts>;
  byLang: Record<string, TypeCounts>;
  byTypeLang: Record<string, TypeCounts>;
  problems: EvalProblem[];
}

const blank = (): TypeCounts => ({ truth: 0, found: 0, covered: 0, predicted: 0, correct: 0 });

/** Evaluates `cases` (default: the whole labelled corpus). */
export function evaluateLabelled(cases: readonly LabelledCase[] = LABELLED_CASES): LabelledResult {
  const res: LabelledResult = { byType: {}, byLang: {}, byTypeLang: {}, problems: [] };
  const bump = (type: string, lang: string, f: (c: TypeCounts) => void): void => {
    f((res.byType[type] ??= blank()));
    f((res.byLang[lang] ??= blank()));
    f((res.byTypeLang[`${type}/${lang}`] ??= blank()));
  };
  for (const [lang, text, labels] of cases) {
    const pt = buildPageText(pageOf(text));
    if (pt.text !== text.split('\n').map((l) => l.split(' ').filter(Boolean).join(' ')).join('\n')) throw new Error(`irregular spacing in ${JSON.stringify(text)}`);
    const found = findEntities(pt, {});
    const used = new Map<string, number>();
    const truth = labels.map(([type, value]) => {
      const from = used.get(value) ?? 0;
      const start = pt.text.indexOf(value, from);
      if (start < 0) throw new Error(`label ${JSON.stringify(value)} not in ${JSON.stringify(text)}`);
      used.set(value, start + value.length);
      return { type, start, end: start + value.length, value };
    });
    for (const t of truth) {
      let all = true;
      let any = true;
      for (let i = t.start; i < t.end; i++) {
        if (/\s/.test(pt.text[i])) continue;
        if (!found.some((f) => f.entity === t.type && f.start <= i && i < f.end)) all = false;
        if (!found.some((f) => f.start <= i && i < f.end)) any = false;
      }
      bump(t.type, lang, (c) => {
        c.truth++;
        if (all) c.found++;
        if (any) c.covered++;
      });
      if (!all) res.problems.push({ kind: 'miss', lang, type: t.type, value: t.value, text });
    }
    for (const f of found) {
      const ok = truth.some((t) => t.type === f.entity && t.start < f.end && f.start < t.end);
      bump(f.entity, lang, (c) => {
        c.predicted++;
        if (ok) c.correct++;
      });
      if (!ok) res.problems.push({ kind: 'false positive', lang, type: f.entity, value: f.text, text });
    }
  }
  return res;
}

export { rates };

/**
 * Two-column lines: each one-line case next to another of the same language, as OCR reads a
 * two-column form line by line ("Telefon: 030 1234567 Kontonummer: 0532013000"). Labels of one
 * column sit right before the other column's values, so this measures how far context leaks.
 */
export function twoColumn(cases: readonly LabelledCase[]): LabelledCase[] {
  const out: LabelledCase[] = [];
  const byLang = new Map<string, LabelledCase[]>();
  for (const c of cases) if (!c[1].includes('\n')) byLang.set(c[0], [...(byLang.get(c[0]) ?? []), c]);
  for (const [lang, list] of byLang) {
    const half = Math.ceil(list.length / 2);
    for (let i = 0; i + half < list.length; i++) {
      const [a, b] = [list[i], list[i + half]];
      out.push([lang, `${a[1]} ${b[1]}`, [...a[2], ...b[2]]]);
    }
  }
  return out;
}
