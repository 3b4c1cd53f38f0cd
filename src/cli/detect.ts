/**
 * `doc-anon detect <image|pdf> [--json] [--out FILE] [--policy FILE] [--include-original]`: what an
 * automatic anonymization would replace, as a regions document (see
 * `src/inference/regions-document.ts`) or a table. The document, edited or not, goes back in as
 * `anonymize --regions`: unedited, it gives the automatic run's output (with DOC_ANON_SECRET set,
 * the very same fakes). Original text is withheld unless --include-original is given.
 */
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../core/atomic-file';
import { loadConfigFile } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { MAX_JSON_FILE_BYTES, readRegularFileSync } from '../core/read-file';
import { DetectionPolicySchema } from '../detect/policy';
import { Anonymizer } from '../inference/anonymizer';
import { sha256Hex, toRegionsDocument, type RegionsDocument } from '../inference/regions-document';
import { detectPdf } from '../pdf/detect-pdf';
import { isPdf } from '../pdf/rasterize';
import type { Command } from './commands';

const HELP = `usage: doc-anon detect <image|pdf> [options]

  --json               print the regions document (JSON; default: a table)
  --out FILE           write the regions document to FILE (implies --json; stdout stays quiet)
  --policy FILE        detection policy (YAML/JSON): entities, keep lists, custom rules
  --ocr FILE           an image's OCR results (SuppliedOcr JSON) instead of running tesseract
  --include-original   put the original text of each value into the output (keep it private)
  --dpi N              PDF input: rendering resolution (default 150; anonymize renders at the
                       document's dpi)
  --ocr-timeout MS     OCR time limit per page (default 60000)
  --lang L1+L2         the page's languages, tesseract codes (default eng; e.g. deu+eng)
  --lang-path DIR      a folder with <lang>.traineddata(.gz) files (default: the npm packages)

The regions document (kind doc-anon/regions, version 1; JSON Schema in
schemas/regions-document.v1.schema.json) goes back in as "anonymize --regions FILE": edit a
replacement, delete a region, add one ({ "box", "replacement" }), or set "keep": true to leave a
value as it is (the verification then accepts it on the page).
environment: DOC_ANON_SECRET makes the replacements consistent across documents and runs.
`;

/** Largest input read (Node's limit for one read). */
const MAX_INPUT_BYTES = 2 ** 31 - 1;

export const detectCommand: Command = {
  summary: 'list the sensitive values found on a page or PDF as a regions document (no output image)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        out: { type: 'string', short: 'o' },
        policy: { type: 'string' },
        ocr: { type: 'string' },
        'include-original': { type: 'boolean' },
        dpi: { type: 'string' },
        'ocr-timeout': { type: 'string' },
        lang: { type: 'string' },
        'lang-path': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) {
      process.stderr.write(HELP);
      return 2;
    }
    const positive = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new DocAnonError(ErrorCode.ARGUMENT, `--${name} must be a positive integer, got "${v}"`);
      return n;
    };
    const timeoutMs = positive(values['ocr-timeout'], 'ocr-timeout') ?? 60_000;
    const dpi = positive(values.dpi, 'dpi');
    const policy = values.policy ? loadConfigFile(DetectionPolicySchema, values.policy) : undefined;
    const bytes = readRegularFileSync(positionals[0], { what: 'input', maxBytes: MAX_INPUT_BYTES });
    const pdf = isPdf(bytes);
    if (pdf && values.ocr) throw new DocAnonError(ErrorCode.ARGUMENT, '--ocr is for an image; a PDF is read from its text layer and by OCR');
    if (!pdf && dpi !== undefined) throw new DocAnonError(ErrorCode.ARGUMENT, '--dpi is for a PDF input');
    let supplied: unknown;
    if (values.ocr) {
      const text = readRegularFileSync(values.ocr, { what: 'OCR results', maxBytes: MAX_JSON_FILE_BYTES }).toString('utf8');
      try {
        supplied = JSON.parse(text);
      } catch (e) {
        throw new DocAnonError(ErrorCode.INPUT, `cannot read OCR results ${values.ocr}: ${(e as Error).message}`);
      }
    }
    const includeOriginal = values['include-original'] === true;
    // The classic engine loads no weights: the Anonymizer here only reads and detects.
    const anonymizer = await Anonymizer.create({
      engine: 'classic',
      detection: {
        secret: process.env.DOC_ANON_SECRET || undefined,
        ocr: { timeoutMs, ...(values.lang !== undefined ? { languages: values.lang.split('+') } : {}), ...(values['lang-path'] !== undefined ? { langPath: values['lang-path'] } : {}) },
      },
    });
    let doc: RegionsDocument;
    try {
      if (pdf) {
        const r = await detectPdf(anonymizer, bytes, { dpi, policy, includeOriginal, timeoutMs: Math.max(120_000, timeoutMs) });
        doc = toRegionsDocument({ type: 'pdf', format: 'pdf', sha256: sha256Hex(bytes), dpi: r.dpi }, r.pages);
      } else {
        const r = await anonymizer.detect(bytes, { policy, includeOriginal, ocr: supplied });
        doc = toRegionsDocument({ type: 'image', format: r.format, sha256: sha256Hex(bytes) }, [r]);
      }
    } finally {
      await anonymizer.close();
    }
    const n = doc.pages.reduce((a, p) => a + p.regions.length, 0);
    if (values.out) {
      writeFileAtomic(values.out, `${JSON.stringify(doc, null, 2)}\n`, { mkdir: true });
      process.stderr.write(`${n} region(s) on ${doc.pages.length} page(s) -> ${values.out}\n`);
    } else if (values.json) {
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      for (const p of doc.pages) {
        for (const r of p.regions) {
          const orig = r.original !== undefined ? `  ${JSON.stringify(r.original)} ->` : '';
          const where = doc.pages.length > 1 ? `p${p.page} ` : '';
          process.stdout.write(`${where}${(r.entity ?? '').padEnd(15)} ${(r.confidence ?? 0).toFixed(2)}  [${r.box.join(', ')}]${orig}  ${JSON.stringify(r.replacement)}\n`);
        }
      }
      process.stderr.write(`${n} region(s) on ${doc.pages.length} page(s)\n`);
    }
    return 0;
  },
};
