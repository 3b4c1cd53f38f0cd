/**
 * `doc-anon dataset import --format funsd|xfund --in PATH --out DIR`: converts a public
 * form-understanding dataset into the dataset format (one JSON per page, image beside it), a
 * folder that `data.source: dataset` / `data.dataset_dir` trains on as is. The report (pages,
 * lines, clipped boxes, skipped entities by reason) goes to stdout as JSON.
 */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { importDataset } from '../training/data/importers';
import type { Command } from './commands';

const HELP = `usage: doc-anon dataset import --format funsd|xfund --in PATH --out DIR

  --format F   funsd: PATH is a folder with annotations/*.json and images/*.png|jpg
                      (FUNSD's training_data/ or testing_data/)
               xfund: PATH is a split file (e.g. zh.train.json, images beside it) or a folder
                      of split files
  --in PATH    the dataset to read
  --out DIR    output folder: <name>.json + <name>.<png|jpg> per page (created; files of the
               same name are replaced, each written atomically)

Every form entity becomes one OCR line (score 1, its words with their boxes). Boxes are clipped to
the image; entities with empty text or a box under 1 pixel are skipped and counted. The report is
printed as JSON on stdout. Exit codes: 0 done, 2 bad input (the message names the file and key).
`;

export const datasetCommand: Command = {
  summary: 'import FUNSD / XFUND annotations into the training dataset format',
  async run(args) {
    const [verb, ...rest] = args;
    if (!verb || verb === '--help' || verb === '-h') {
      process.stdout.write(HELP);
      return verb ? 0 : 2;
    }
    if (verb !== 'import') throw new DocAnonError(ErrorCode.ARGUMENT, `unknown dataset verb "${verb}" (import)\n${HELP}`);
    let values: { format?: string; in?: string; out?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: rest,
        strict: true,
        options: {
          format: { type: 'string' },
          in: { type: 'string' },
          out: { type: 'string', short: 'o' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      throw new DocAnonError(ErrorCode.ARGUMENT, `${(e as Error).message}\n${HELP}`);
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!values.format || !values.in || !values.out) throw new DocAnonError(ErrorCode.ARGUMENT, `--format, --in and --out are required\n${HELP}`);
    if (values.format !== 'funsd' && values.format !== 'xfund') throw new DocAnonError(ErrorCode.ARGUMENT, `--format must be funsd or xfund, got "${values.format}"`);
    const report = await importDataset({ format: values.format, input: values.in, output: values.out });
    const skipped = Object.values(report.skipped).reduce((a, b) => a + b, 0);
    process.stderr.write(`imported ${report.pages} pages, ${report.lines} lines into ${report.output} (${skipped} skipped, ${report.clipped.lines + report.clipped.words} boxes clipped)\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
};
