/**
 * Importers of public form-understanding datasets into the dataset format
 * (src/training/dataset-format.ts): one `<stem>.json` per page with its image copied beside it, a
 * folder the `dataset` page source (data.source: dataset, data.dataset_dir) reads as is.
 *
 * Error codes: ERR_ARGUMENT (unknown format, output folder equal to an input folder),
 * ERR_NOT_FOUND (missing input, folder or image), ERR_INPUT (not JSON, not the format: the
 * message names the file and every bad key; duplicate output names; an XFUND image whose size is
 * not the declared one), ERR_UNSAFE_KEY (an XFUND image path leaving its folder), ERR_IMAGE (an
 * image that cannot be read), ERR_IO (read / write failures).
 */
import { z } from 'zod';
import { formatIssues } from '../../../core/config';
import { DocAnonError, ErrorCode } from '../../../core/errors';
import type { ImportReport } from './common';
import { importFunsd } from './funsd';
import { importXfund } from './xfund';

export { FunsdAnnotationSchema, importFunsd } from './funsd';
export { XfundSplitSchema, importXfund } from './xfund';
export { FormEntitySchema, type DatasetFormat, type ImportReport } from './common';

export const ImportDatasetOptionsSchema = z.strictObject({
  /** funsd: a folder with annotations/ and images/; xfund: a split JSON file or a folder of them. */
  format: z.enum(['funsd', 'xfund']),
  /** Input path (see `format`). */
  input: z.string().min(1),
  /** Output folder (created; same-named files in it are replaced). */
  output: z.string().min(1),
});
export type ImportDatasetOptions = z.infer<typeof ImportDatasetOptionsSchema>;

/** Converts a FUNSD or XFUND dataset into a dataset-format folder; returns what was written and skipped. */
export async function importDataset(options: ImportDatasetOptions): Promise<ImportReport> {
  const r = ImportDatasetOptionsSchema.safeParse(options);
  if (!r.success) throw new DocAnonError(ErrorCode.ARGUMENT, `invalid importDataset options:\n${formatIssues(r.error)}`);
  const o = r.data;
  return o.format === 'funsd' ? importFunsd(o.input, o.output) : importXfund(o.input, o.output);
}
