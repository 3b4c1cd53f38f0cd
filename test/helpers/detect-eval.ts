/**
 * Detection quality on the synthetic corpus (src/training/synthetic): documents with known
 * sensitive spans. Used by the detection benchmark (full table) and a test (small subset).
 */
import { findEntities } from '../../src/detect/detect';
import type { DetectionPolicyInput } from '../../src/detect/policy';
import { buildPageText } from '../../src/detect/text';
import type { Box, OcrPage } from '../../src/detect/types';
import type { DocumentAnnotation } from '../../src/training/dataset-format';

/** Corpus entity types -> detection entity types. */
export const TYPE_MAP: Record<string, string> = {
  PERSON: 'person',
  ORGANIZATION: 'organization',
  ADDRESS: 'address',
  DATE: 'date',
  AMOUNT: 'money',
  IBAN: 'iban',
  ACCOUNT_NUMBER: 'account_number',
  ID_NUMBER: 'id_number',
  PHONE: 'phone',
  EMAIL: 'email',
};

/** Counts per entity type. */
export interface TypeCounts {
  /** Ground-truth entities, and those fully covered by a detection of the same type / of any type. */
  truth: number;
  found: number;
  covered: number;
  /** Detections, and those that overlap a ground-truth entity of the same type. */
  predicted: number;
  correct: number;
}

const quadBox = (q: readonly (readonly number[])[]): Box => [
  Math.min(...q.map((p) => p[0])),
  Math.min(...q.map((p) => p[1])),
  Math.max(...q.map((p) => p[0])),
  Math.max(...q.map((p) => p[1])),
];

/** The annotation's ground-truth OCR as an OcrPage (what a perfect OCR would return). */
export function pageFromAnnotation(a: DocumentAnnotation): OcrPage {
  return {
    width: a.width ?? 0,
    height: a.height ?? 0,
    engine: 'ground-truth',
    lines: a.document.map((l) => ({
      box: quadBox(l.box),
      confidence: 1,
      words: (l.words ?? []).map((w) => ({ text: w.text, box: quadBox(w.box), confidence: 1 })),
    })),
  };
}

/** Adds one document's counts (ground-truth text, so this measures the recognizers, not OCR). */
export function evaluateDocument(a: DocumentAnnotation, counts: Record<string, TypeCounts>, policy: DetectionPolicyInput = {}): void {
  const page = pageFromAnnotation(a);
  const pt = buildPageText(page);
  const found = findEntities(pt, policy);
  const get = (t: string): TypeCounts => (counts[t] ??= { truth: 0, found: 0, covered: 0, predicted: 0, correct: 0 });
  const truth = (a.entities ?? []).map((e) => {
    // Line text in the page text is the words joined by single spaces, like the generator's lines.
    const lineText = page.lines[e.line].words.map((w) => w.text).join(' ');
    if (lineText !== a.document[e.line].text) throw new Error(`line ${e.line} has irregular spacing`);
    const start = pt.lineStarts[e.line] + e.start;
    return { type: TYPE_MAP[e.type] ?? e.type, start, end: pt.lineStarts[e.line] + e.end };
  });
  const covers = (start: number, end: number, type?: string): boolean => {
    for (let i = start; i < end; i++) {
      if (/\s/.test(pt.text[i])) continue;
      if (!found.some((f) => (!type || f.entity === type) && f.start <= i && i < f.end)) return false;
    }
    return true;
  };
  for (const t of truth) {
    const c = get(t.type);
    c.truth++;
    if (covers(t.start, t.end, t.type)) c.found++;
    if (covers(t.start, t.end)) c.covered++;
  }
  for (const f of found) {
    const c = get(f.entity);
    c.predicted++;
    if (truth.some((t) => t.type === f.entity && t.start < f.end && f.start < t.end)) c.correct++;
  }
}

/** Recall (same type), recall of any type, precision. */
export function rates(c: TypeCounts): { recall: number; anyRecall: number; precision: number } {
  return {
    recall: c.truth ? c.found / c.truth : 1,
    anyRecall: c.truth ? c.covered / c.truth : 1,
    precision: c.predicted ? c.correct / c.predicted : 1,
  };
}
