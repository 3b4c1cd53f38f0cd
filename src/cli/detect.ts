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
import { DetectionPolicySchema } from '../detect/policy';
import { decodeImage } from '../inference/image-io';
import { rawOf } from '../inference/detection';
import type { Command } from './commands';

const HELP = `usage: doc-anon detect <image> [options]

  --json               print the regions as JSON (default: a table)
  --policy FILE        detection policy (YAML/JSON): entities, keep lists, custom rules
  --ocr FILE           use these OCR results (SuppliedOcr JSON) instead of running tesseract
  --include-original   show the original text of each value (keep the output private)
  --ocr-timeout MS     OCR time limit (default 60000)

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
    const ocr = supplied !== undefined ? new SuppliedOcr(supplied) : new TesseractOcr();
    try {
      const read = await ocr.recognize(rawOf(page), { timeoutMs });
      const regions = detectPii(read, policy, { secret: process.env.DOC_ANON_SECRET || undefined, includeOriginal: values['include-original'] === true });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ width: page.width, height: page.height, regions }, null, 2)}\n`);
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
