/**
 * `doc-anon anonymize <input> --out <output>`: one file, or a folder (`<dir> --out <dir>`) with
 * bounded concurrency. Without --regions the sensitive text is detected and replaced on its own.
 * By default (both engines) the whole output page is read back and checked before it is written.
 * A PDF input gives a PDF of anonymized page images. Exit codes: 0 done (and, unless --no-verify,
 * verified), 2 bad input (bad image, regions, options, a page that cannot be read: ERR_UNREADABLE),
 * 1 internal failure or a failed verification (ERR_VERIFY).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../core/atomic-file';
import { MAX_JSON_FILE_BYTES, readRegularFileSync } from '../core/read-file';
import { DocAnonError, ErrorCode, exitStatus } from '../core/errors';
import { loadConfigFile } from '../core/config';
import { DetectionPolicySchema, type DetectionPolicyInput } from '../detect/policy';
import { anonymizerAudit, buildAuditRecord, fileFormat, type AuditRecord } from '../audit';
import { parseDetectionPolicy } from '../detect/policy';
import { Anonymizer, type AnonymizerOptions } from '../inference/anonymizer';
import type { ImageFormat } from '../inference/image-io';
import { parseRegionsInput, regionsForImage, type RegionsInput } from '../inference/regions-document';
import { buildReport, type AnonymizeReport } from '../inference/report';
import { anonymizePdf } from '../pdf/anonymize-pdf';
import { isPdf } from '../pdf/rasterize';
import type { Command } from './commands';
import { progressLine } from './progress';

const HELP = `usage: doc-anon anonymize <input> --out <output> [options]
       doc-anon anonymize <input-dir> --out <output-dir> [options]

  --out FILE|DIR       the output; its extension sets the format (.png .jpg .tif .webp for an
                       image, .pdf for a PDF); never the input itself

  --regions FILE       a regions document, as "doc-anon detect --json" writes it (edited or not:
                       regions with "keep": true are left as they are and accepted by the
                       verification); unedited, the output is the automatic run's. Image or PDF.
                       (Deprecated, still read: a bare JSON array of { "box", "replacement" } for
                       an image.) Folder mode: <name>.regions.json next to a file is used when
                       present, else this file for every file; without it, sensitive text is
                       detected and replaced automatically
  --policy FILE        detection policy (YAML/JSON): entities to replace, values to keep, custom rules;
                       with --regions, what the verification counts as sensitive
  --ocr FILE           detection from these OCR results (SuppliedOcr JSON) instead of tesseract
  --no-verify          skip the check of the output (default: the whole output page is read back
                       and nothing sensitive may be readable on it; the report records "off")
  --verify             the check, also with --regions (the default; the input is then read first
                       to know what the boxes held)
  --allow-empty        with --regions: an empty list is right (the page has nothing to replace)
  --ocr-timeout MS     OCR time limit per page and pass (default 60000)
  --lang L1+L2         the pages' languages, tesseract codes (default eng; e.g. deu+eng); data from
                       the @tesseract.js-data/<lang> npm packages, or --lang-path
  --lang-path DIR      a folder with <lang>.traineddata(.gz) files (e.g. Debian's tessdata)
  --include-original   put the original text into the report (keep the report private)
  --dpi N              PDF input: rendering resolution (default 150)
  --engine NAME        classic (default, no weights) | diffute
  --model DIR|r2://    diffute: a DiffUTE pipeline folder: model_index.json, unet/, vae/,
                       glyph_encoder/, optional glyph_projection/ and scheduler/ (without scheduler/:
                       SD2-inpainting's); a training checkpoint is one. Default: the bundled
                       DiffUTE small model (assets/models/diffute-small: a demonstration)
  --glyph-encoder DIR  diffute: TrOCR folder instead of the pipeline's glyph_encoder/
  --sampler NAME       ddpm (default) | ddim | dpmpp2m | euler | pndm
  --steps N            sampling steps (default 50)
  --resolution N       diffute: crop side the model samples at (default: the UNet's sample_size x the
                       VAE factor, as diffusers; 512 for SD2)
  --seed N             seed (default 0)
  --on-unreadable WHAT diffute: a replacement the verification does not read back as its text is
                       redrawn with the next seed, then by the classic engine (retry, the default),
                       drawn by the classic engine at once (classic), refuses the page (fail), or
                       is kept unchecked (off); the report says which for each region
  --device DEV         cpu (default) | cuda | cuda:N
  --report FILE        write the report, an audit record (JSON): sha256 of input and output, package,
                       engine and seeds, models, OCR data, policy (sha256), every region's decision,
                       the verification, timestamps; with DOC_ANON_SECRET an HMAC over it
                       ("doc-anon audit verify" checks it). Original text only with
                       --include-original.

environment: DOC_ANON_SECRET (16+ chars) makes the fakes consistent across documents.
  --concurrency N      folder mode: files in flight (default 2)
`;

/** Largest input document read (Node's limit for one read). */
const MAX_INPUT_BYTES = 2 ** 31 - 1;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.pdf']);

/** Per-call settings shared by single-file and folder mode. */
interface CallSettings {
  policy?: DetectionPolicyInput;
  suppliedOcr?: unknown;
  verify?: boolean;
  allowEmpty: boolean;
  includeOriginal: boolean;
  dpi?: number;
}

/** The report of one file (an image: one page; a PDF: one per page). */
interface FileReport {
  pages: AnonymizeReport[];
}

/** A regions file as read: what it holds, and its bytes (the audit record names them by sha256). */
interface RegionsFile {
  input: RegionsInput;
  bytes: Buffer;
}

/** Image formats by output extension: the bytes written match the name they are written under. */
const FORMAT_BY_EXT: Record<string, ImageFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.tif': 'tiff', '.tiff': 'tiff', '.webp': 'webp' };

/** The format `out` asks for by its extension: a PDF for a PDF, an image format for an image. */
function outputFormat(out: string, pdfInput: boolean): ImageFormat | 'pdf' {
  const ext = path.extname(out).toLowerCase();
  if (pdfInput) {
    if (ext !== '.pdf') throw new DocAnonError(ErrorCode.ARGUMENT, `a PDF is anonymized into a PDF: name the output .pdf, not ${out}`);
    return 'pdf';
  }
  const format = FORMAT_BY_EXT[ext];
  if (!format) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `cannot tell the output format from ${out}: name it .png, .jpg, .tif or .webp (an image stays an image)`);
  }
  return format;
}

/**
 * Anonymizes one file (image or PDF) into the format `out` names; returns the output bytes, the
 * report and the file's audit record.
 */
async function anonymizeFile(
  anonymizer: Anonymizer,
  file: string,
  out: string,
  regions: RegionsFile | undefined,
  s: CallSettings,
): Promise<{ data: Buffer; report: FileReport; audit: AuditRecord }> {
  const startedAt = new Date();
  // A regular file only: a FIFO or a device would block or never end.
  const bytes = readRegularFileSync(file, { what: 'input', maxBytes: MAX_INPUT_BYTES });
  const format = outputFormat(out, isPdf(bytes));
  const { document, legacy } = regions?.input ?? {};
  let data: Buffer;
  let report: FileReport;
  if (format === 'pdf') {
    if (legacy) throw new DocAnonError(ErrorCode.ARGUMENT, 'a bare regions array is for one image; for a PDF give the regions document "doc-anon detect --json" writes');
    const r = await anonymizePdf(anonymizer, bytes, { dpi: s.dpi, policy: s.policy, includeOriginal: s.includeOriginal, verify: s.verify, allowEmpty: s.allowEmpty, regionsDocument: document });
    data = r.pdf;
    report = { pages: r.pages.map((p) => buildReport({ ...p, format: 'pdf' })) };
  } else {
    const given = document ? await regionsForImage(document, bytes) : legacy;
    const r = await anonymizer.anonymize(bytes, {
      regions: given,
      format,
      policy: s.policy,
      ocr: given ? undefined : s.suppliedOcr,
      verify: s.verify,
      // A document's page without regions says the page has nothing to replace, as detection found.
      allowEmpty: s.allowEmpty || document !== undefined,
      includeOriginal: s.includeOriginal,
    });
    data = r.image;
    report = { pages: [buildReport(r, given)] };
  }
  const audit = buildAuditRecord({
    via: 'cli',
    startedAt,
    input: { bytes, name: file, type: format === 'pdf' ? 'pdf' : 'image', format: fileFormat(bytes) },
    output: { bytes: data, name: out, format },
    ...anonymizerAudit(anonymizer),
    policy: parseDetectionPolicy(s.policy ?? anonymizer.options.detection.policy ?? {}),
    regions: regions ? { source: document ? 'document' : 'array', bytes: regions.bytes } : { source: 'detected' },
    pages: report.pages,
    secret: process.env.DOC_ANON_SECRET || undefined,
  });
  return { data, report, audit };
}

/** Warned once per run: the bare array still works but has no room for pages, entities or keep. */
let warnedLegacy = false;

function readRegions(file: string): RegionsFile {
  const bytes = readRegularFileSync(file, { what: 'regions file', maxBytes: MAX_JSON_FILE_BYTES });
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DocAnonError(ErrorCode.INPUT, `regions file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const input = parseRegionsInput(value);
  if (input.legacy && !warnedLegacy) {
    warnedLegacy = true;
    process.stderr.write(`doc-anon anonymize: ${file} is a bare regions array (deprecated): write a regions document with "doc-anon detect --json" (see --help)\n`);
  }
  return { input, bytes };
}

/**
 * Writes via a temp file, flushed to disk, then renamed: a crash never leaves a half-written
 * output, and a failed write leaves neither the temp file nor a changed output behind.
 */
export const anonymizeCommand: Command = {
  summary: 'detect and replace sensitive text in a document image or PDF (or every file in a folder)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string', short: 'o' },
        regions: { type: 'string' },
        engine: { type: 'string' },
        model: { type: 'string' },
        'glyph-encoder': { type: 'string' },
        sampler: { type: 'string' },
        steps: { type: 'string' },
        resolution: { type: 'string' },
        seed: { type: 'string' },
        'on-unreadable': { type: 'string' },
        device: { type: 'string' },
        report: { type: 'string' },
        concurrency: { type: 'string' },
        policy: { type: 'string' },
        ocr: { type: 'string' },
        verify: { type: 'boolean' },
        'no-verify': { type: 'boolean' },
        'verify-scope': { type: 'string' },
        'allow-empty': { type: 'boolean' },
        'ocr-timeout': { type: 'string' },
        lang: { type: 'string' },
        'lang-path': { type: 'string' },
        'include-original': { type: 'boolean' },
        dpi: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const input = positionals[0];
    if (!input || !values.out || positionals.length > 1) {
      process.stderr.write(HELP);
      return 2;
    }
    const int = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new DocAnonError(ErrorCode.ARGUMENT, `--${name} must be a non-negative integer, got "${v}"`);
      return n;
    };
    const engine = (values.engine ?? (values.model ? 'diffute' : 'classic')) as 'classic' | 'diffute';
    if (values.verify && values['no-verify']) throw new DocAnonError(ErrorCode.ARGUMENT, 'give --verify or --no-verify, not both');
    // (Kept for old scripts: verification always reads the whole page now.)
    const scope = values['verify-scope'];
    if (scope !== undefined && scope !== 'page') {
      throw new DocAnonError(ErrorCode.ARGUMENT, `--verify-scope ${scope} is gone: verification always reads the whole page (drop the option)`);
    }
    const ocrTimeout = int(values['ocr-timeout'], 'ocr-timeout');
    const options: AnonymizerOptions = {
      engine,
      device: values.device,
      detection: {
        secret: process.env.DOC_ANON_SECRET || undefined,
        ocr: {
          ...(ocrTimeout ? { timeoutMs: ocrTimeout } : {}),
          ...(values.lang !== undefined ? { languages: values.lang.split('+') } : {}),
          ...(values['lang-path'] !== undefined ? { langPath: values['lang-path'] } : {}),
        },
      },
    };
    let suppliedOcr: unknown;
    if (values.ocr) {
      const text = readRegularFileSync(values.ocr, { what: 'OCR results', maxBytes: MAX_JSON_FILE_BYTES }).toString('utf8');
      try {
        suppliedOcr = JSON.parse(text);
      } catch (e) {
        throw new DocAnonError(ErrorCode.INPUT, `OCR results ${values.ocr} are not valid JSON: ${(e as Error).message}`);
      }
    }
    const settings: CallSettings = {
      policy: values.policy ? loadConfigFile(DetectionPolicySchema, values.policy) : undefined,
      suppliedOcr,
      verify: values.verify ? true : values['no-verify'] ? false : undefined,
      allowEmpty: values['allow-empty'] === true,
      includeOriginal: values['include-original'] === true,
      dpi: int(values.dpi, 'dpi'),
    };
    if (engine === 'diffute') {
      // Without --model: the bundled DiffUTE small model (the Anonymizer's default).
      if (values.model) options.model = values.model;
      if (values['glyph-encoder']) options.models = { glyphEncoder: values['glyph-encoder'] };
      const onUnreadable = values['on-unreadable'];
      if (onUnreadable !== undefined && !['retry', 'classic', 'fail', 'off'].includes(onUnreadable)) {
        throw new DocAnonError(ErrorCode.ARGUMENT, `--on-unreadable must be retry, classic, fail or off, got ${onUnreadable}`);
      }
      options.diffute = {
        sampler: values.sampler as never,
        steps: int(values.steps, 'steps'),
        resolution: int(values.resolution, 'resolution'),
        seed: int(values.seed, 'seed'),
        ...(onUnreadable === undefined ? {} : { readBack: onUnreadable === 'off' ? { enabled: false } : { onUnreadable: onUnreadable as 'retry' | 'classic' | 'fail' } }),
      };
    } else {
      if (values['on-unreadable'] !== undefined) throw new DocAnonError(ErrorCode.ARGUMENT, '--on-unreadable is for --engine diffute (the classic engine draws the exact text)');
      options.classic = { seed: int(values.seed, 'seed') };
    }
    const anonymizer = await Anonymizer.create(options);
    try {
      let stat: fs.Stats | undefined;
      try {
        stat = fs.statSync(input, { throwIfNoEntry: false });
      } catch (e) {
        throw new DocAnonError(ErrorCode.IO, `cannot read input ${input}: ${(e as Error).message}`, { cause: e });
      }
      if (!stat) throw new DocAnonError(ErrorCode.NOT_FOUND, `input ${input} does not exist`);
      refuseOverwritingInput(input, values.out);
      if (stat.isDirectory()) {
        if (suppliedOcr !== undefined) throw new DocAnonError(ErrorCode.ARGUMENT, '--ocr is for a single image, not a folder');
        return await runFolder(anonymizer, input, values.out, values.regions, int(values.concurrency, 'concurrency') ?? 2, values.report, settings);
      }
      const t0 = performance.now();
      const { data, report, audit } = await anonymizeFile(anonymizer, input, values.out, values.regions ? readRegions(values.regions) : undefined, settings);
      // The report first: an output file never exists without the record of what was done to it.
      // If the output then cannot be written, the report goes too (it would describe nothing).
      if (values.report) writeFileAtomic(values.report, `${JSON.stringify(audit, null, 2)}\n`, { mkdir: true });
      try {
        writeFileAtomic(values.out, data, { mkdir: true });
      } catch (e) {
        if (values.report) fs.rmSync(values.report, { force: true });
        throw e;
      }
      const n = report.pages.reduce((a, p) => a + p.regions.length, 0);
      const verified = report.pages.every((p) => p.verified)
        ? ', verified: the whole page was read back and nothing sensitive is readable'
        : ', NOT verified (verification was turned off)';
      process.stderr.write(`anonymized ${n} region(s) on ${report.pages.length} page(s)${verified}, in ${Math.round(performance.now() - t0)} ms -> ${values.out}\n`);
      return 0;
    } finally {
      await anonymizer.close();
    }
  },
};

/**
 * Refuses an output that is the input itself (a file, or a folder for a folder run): the
 * anonymized copy would replace the original, and an original is never overwritten.
 */
function refuseOverwritingInput(input: string, out: string): void {
  let same = false;
  try {
    same = fs.realpathSync(input) === fs.realpathSync(out);
  } catch {
    // The output does not exist yet: it cannot be the input.
  }
  if (same) throw new DocAnonError(ErrorCode.ARGUMENT, `--out ${out} is the input itself: write the anonymized copy elsewhere (the original is never overwritten)`);
}

async function runFolder(
  anonymizer: Anonymizer,
  dir: string,
  outDir: string,
  regionsName: string | undefined,
  concurrency: number,
  report: string | undefined,
  settings: CallSettings,
): Promise<number> {
  // --regions: a path (from the working folder, or inside the input folder), used for the images
  // without their own <name>.regions.json. Given but missing is an error, not silent detection.
  let sharedRegions: string | undefined;
  if (regionsName !== undefined) {
    sharedRegions = [regionsName, path.join(dir, regionsName)].find((p) => fs.existsSync(p));
    if (!sharedRegions) throw new DocAnonError(ErrorCode.NOT_FOUND, `--regions ${regionsName} does not exist (looked in the working folder and in ${dir})`);
  }
  const files = fs.readdirSync(dir).filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase())).sort();
  fs.mkdirSync(outDir, { recursive: true });
  const results: Array<{ file: string; ok: boolean; code?: string; error?: string; regions?: number; pages?: AnonymizeReport[]; audit?: AuditRecord }> = [];
  let next = 0;
  let done = 0;
  const show = progressLine('anonymize', files.length);
  async function worker(): Promise<void> {
    while (next < files.length) {
      const f = files[next++];
      const base = path.join(dir, path.parse(f).name);
      const own = `${base}.regions.json`;
      const regionsFile = fs.existsSync(own) ? own : sharedRegions;
      try {
        // No regions file: detection.
        const r = await anonymizeFile(anonymizer, path.join(dir, f), f, regionsFile ? readRegions(regionsFile) : undefined, settings);
        writeFileAtomic(path.join(outDir, f), r.data, { mkdir: true });
        results.push({ file: f, ok: true, regions: r.report.pages.reduce((a, p) => a + p.regions.length, 0), pages: r.report.pages, audit: r.audit });
      } catch (e) {
        const err = e as DocAnonError;
        results.push({ file: f, ok: false, code: err.code ?? ErrorCode.INTERNAL, error: err.message });
      }
      show(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  if (report) writeFileAtomic(report, JSON.stringify({ input: dir, output: outDir, files: results }, null, 2), { mkdir: true });
  const failed = results.filter((r) => !r.ok);
  for (const f of failed) process.stderr.write(`  ${f.file}: ${f.code}: ${f.error}\n`);
  process.stderr.write(`${results.length - failed.length} of ${results.length} file(s) anonymized\n`);
  // The error table's status: 1 when any file failed for another reason than its input, else 2.
  return failed.length === 0 ? 0 : Math.min(...failed.map((f) => exitStatus(f.code ?? ErrorCode.INTERNAL)));
}
