/**
 * A second reading, independent of the one the library detects with: tesseract.js with another
 * model file (the `@tesseract.js-data/eng` legacy+LSTM folder, not the `_best_int` one the library
 * uses), other page segmentation modes (sparse text; one uniform block), the whole page in one
 * piece (no bands), upright by the test's own knowledge of how it turned the page, and at twice the
 * size. Optionally Debian's `tesseract` command as a third reader. Used to check that nothing
 * sensitive is readable on an output page.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { createWorker, PSM, type Worker } from 'tesseract.js';
import { squash } from './hard-pages';

/**
 * A folder with the legacy+LSTM traineddata (the packages' `4.0.0` folders, not the `_best_int`
 * ones the library reads) of each language, linked: tesseract.js reads all from one folder.
 */
function dataFolder(languages: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-independent-'));
  for (const l of languages) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require(`@tesseract.js-data/${l}`) as { langPath: string };
    fs.symlinkSync(path.join(pkg.langPath, `${l}.traineddata.gz`), path.join(dir, `${l}.traineddata.gz`));
  }
  return dir;
}

/** The independent readers. */
export class IndependentOcr {
  private constructor(
    private readonly workers: Array<{ name: string; worker: Worker }>,
    private readonly languages: readonly string[],
    private readonly dir: string,
  ) {}

  /** Readers of `languages` (tesseract codes; default English). */
  static async create(languages: readonly string[] = ['eng']): Promise<IndependentOcr> {
    const dir = dataFolder(languages);
    const make = async (name: string, psm: PSM): Promise<{ name: string; worker: Worker }> => {
      const worker = await createWorker(languages.join('+'), 1, { langPath: dir, gzip: true, cacheMethod: 'none', cachePath: os.tmpdir(), logger: () => undefined, errorHandler: () => undefined });
      await worker.setParameters({ tessedit_pageseg_mode: psm, user_defined_dpi: '300' });
      return { name, worker };
    };
    return new IndependentOcr([await make('tesseract.js sparse', PSM.SPARSE_TEXT), await make('tesseract.js block', PSM.SINGLE_BLOCK)], languages, dir);
  }

  /**
   * Every reading of an image turned upright by `unturn` degrees (clockwise), at twice its size.
   * Returns one text per reader (and per `tesseract` command run, when `cli` and it is installed).
   */
  async read(image: Buffer, unturn: number, cli = false): Promise<Array<{ reader: string; text: string }>> {
    const upright = await sharp(image).rotate(unturn).toBuffer();
    const meta = await sharp(upright).metadata();
    const big = await sharp(upright).resize({ width: meta.width! * 2, kernel: 'lanczos3' }).png().toBuffer();
    const out: Array<{ reader: string; text: string }> = [];
    for (const { name, worker } of this.workers) {
      const r = await worker.recognize(big);
      out.push({ reader: name, text: r.data.text });
    }
    if (cli && tesseractCliAvailable()) {
      const file = path.join(os.tmpdir(), `doc-anon-independent-${process.pid}.png`);
      fs.writeFileSync(file, upright);
      try {
        for (const psm of ['3', '11']) {
          const text = execFileSync('tesseract', [file, '-', '--psm', psm, '-l', this.languages.join('+')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
          out.push({ reader: `tesseract CLI psm ${psm}`, text });
        }
      } finally {
        fs.rmSync(file, { force: true });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let cliChecked: boolean | undefined;
/** Whether Debian's `tesseract` command is installed. */
export function tesseractCliAvailable(): boolean {
  cliChecked ??= spawnSync('tesseract', ['--version'], { stdio: 'ignore' }).status === 0;
  return cliChecked;
}

/** Levenshtein distance, bounded. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Whether `value` is readable in `text`: its letters and digits appear in order (case, spacing and
 * separators ignored), or, for values of 10+ characters, with at most one character misread.
 */
export function readableIn(text: string, value: string): boolean {
  const hay = squash(text);
  const needle = squash(value);
  if (needle.length === 0) return false;
  if (hay.includes(needle)) return true;
  if (needle.length < 10) return false;
  for (let i = 0; i + needle.length - 1 <= hay.length; i++) {
    for (const len of [needle.length - 1, needle.length, needle.length + 1]) {
      if (i + len <= hay.length && distance(hay.slice(i, i + len), needle, 1) <= 1) return true;
    }
  }
  return false;
}
