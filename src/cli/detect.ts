/**
 * `doc-anon detect <image> [--json] [--policy FILE] [--include-original]`: prints the sensitive
 * values found on a page (entity, confidence, box, the replacement that would be used). Original
 * text is withheld unless --include-original is given.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { detectPii } from '../detect/detect';
import { TesseractOcr } from '../detect/ocr/tesseract';
import { SuppliedOcr } from '../detect/ocr/supplied';
import { languageRegions } from '../detect/country';
import { DetectionPolicySchema, parseDetectionPolicy } from '../detect/policy';
import { turnBox, turnedSize } from '../detect/read/geometry';
import { ReadingOptionsSchema } from '../detect/read/read-page';
import type { OcrPage } from '../detect/types';
import { decodeImage } from '../inference/image-io';
import { rawOf, readInput } from '../inference/detection';
import type { Command } from './commands';

const HELP = `usage: doc-anon detect <image> [options]

  --json               print the regions as JSON (default: a table)
  --policy FILE        detection policy (YAML/JSON): entities, keep lists, custom rules
  --ocr FILE           use these OCR results (SuppliedOcr JSON) instead of running tesseract
  --include-original   show the original text of each value (keep the output private)
  --ocr-timeout MS     OCR time limit (default 60000)
  --lang L1+L2         the page's languages, tesseract codes (default eng; e.g. deu+eng)
  --lang-path DIR      a folder with <lang>.traineddata(.gz) files (default: the npm packages)

environment: DOC_ANON_SECRET makes the replacements consistent across documents.
`;

export const detectCommand: Command = {
  summary: 'list the sensitive values found on a page (no output image)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        policy: { type: 'string' },
        ocr: { type: 'string' },
        'include-original': { type: 'boolean' },
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
    const timeoutMs = values['ocr-timeout'] === undefined ? 60_000 : Number(values['ocr-timeout']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new DocAnonError(ErrorCode.ARGUMENT, '--ocr-timeout must be a positive integer (ms)');
    const policy = values.policy ? loadConfigFile(DetectionPolicySchema, values.policy) : {};
    const page = await decodeImage(positionals[0]);
    let supplied: unknown;
    if (values.ocr) {
      try {
        supplied = JSON.parse(fs.readFileSync(values.ocr, 'utf8'));
      } catch (e) {
        throw new DocAnonError(ErrorCode.INPUT, `cannot read OCR results ${values.ocr}: ${(e as Error).message}`);
      }
    }
    const languages = values.lang?.split('+') ?? ['eng'];
    const ocr = supplied !== undefined ? new SuppliedOcr(supplied) : new TesseractOcr({ languages, langPath: values['lang-path'] });
    try {
      // Read as anonymize reads (upright, or refused with ERR_UNREADABLE); boxes in the image's pixels.
      let read: OcrPage;
      let orientation: 0 | 90 | 180 | 270 = 0;
      if (supplied !== undefined) read = await ocr.recognize(rawOf(page), { timeoutMs });
      else {
        const reading = await readInput(page, { ocr, reading: ReadingOptionsSchema.parse({}), timeoutMs });
        read = reading.upright;
        orientation = reading.orientation;
      }
      const upright = { width: read.width, height: read.height };
      const phoneRegions = languageRegions(languages, parseDetectionPolicy(policy).phoneRegions);
      const regions = detectPii(read, { ...policy, phoneRegions }, { secret: process.env.DOC_ANON_SECRET || undefined, includeOriginal: values['include-original'] === true }).map((r) => ({
        ...r,
        box: turnBox(r.box, upright, orientation),
      }));
      if (turnedSize(upright, orientation).width !== page.width) throw new DocAnonError(ErrorCode.INTERNAL, 'the reading does not match the page size');
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ width: page.width, height: page.height, orientation, regions }, null, 2)}\n`);
      } else {
        for (const r of regions) {
          const orig = r.original !== undefined ? `  ${JSON.stringify(r.original)} ->` : '';
          process.stdout.write(`${r.entity.padEnd(15)} ${r.confidence.toFixed(2)}  [${r.box.join(', ')}]${orig}  ${JSON.stringify(r.replacement)}\n`);
        }
        process.stderr.write(`${regions.length} region(s)\n`);
      }
      return 0;
    } finally {
      await ocr.close();
    }
  },
};
