/**
 * Offline OCR for tests: tesseract.js with the English data bundled in @tesseract.js-data/eng
 * (never downloaded; nothing cached into the working folder).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { createWorker, PSM, type Worker } from 'tesseract.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const engData = require('@tesseract.js-data/eng') as { langPath: string; gzip: boolean };

/** A worker reading single lines of English text. */
export async function createLineOcr(): Promise<Worker> {
  const worker = await createWorker('eng', 1, {
    langPath: engData.langPath,
    gzip: engData.gzip,
    cachePath: path.join(os.tmpdir(), 'doc-anon-tesseract-cache'),
    cacheMethod: 'none',
  });
  await worker.setParameters({ tessedit_pageseg_mode: PSM.SINGLE_LINE, user_defined_dpi: '300' });
  return worker;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Character accuracy of `read` against `truth` (1 - CER, floored at 0), whitespace-insensitive. */
export function charAccuracy(read: string, truth: string): number {
  const r = read.replace(/\s+/g, '');
  const t = truth.replace(/\s+/g, '');
  return Math.max(0, 1 - editDistance(r, t) / Math.max(1, t.length));
}
