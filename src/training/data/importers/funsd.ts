/**
 * FUNSD importer. Input: a folder with `annotations/<stem>.json` and `images/<stem>.png` (or
 * `.jpg` / `.jpeg`), as in FUNSD's `training_data/` and `testing_data/`. Each annotation is
 * `{ "form": [ { "id", "text", "box": [x0,y0,x1,y1], "label", "words": [{ "text", "box" }],
 * "linking" } ] }`; every form entity becomes one OCR line of the dataset format.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../../../core/errors';
import {
  emptyReport, entitiesToLines, FormEntitySchema, imageSize, parseJsonFile, prepareOutput, safeStem, statOrThrow, writePage,
  type ImportReport,
} from './common';

/** One FUNSD annotation file (strict: unknown keys are rejected). */
export const FunsdAnnotationSchema = z.strictObject({
  form: z.array(FormEntitySchema),
});
export type FunsdAnnotation = z.infer<typeof FunsdAnnotationSchema>;

/** Image extensions looked for, in order of preference. */
const IMAGE_EXTS = ['.png', '.jpg', '.jpeg', '.PNG', '.JPG', '.JPEG'];

/** Imports a FUNSD folder (`<input>/annotations`, `<input>/images`) into `output`. */
export async function importFunsd(input: string, output: string): Promise<ImportReport> {
  const root = path.resolve(input);
  if (!statOrThrow(root, 'FUNSD folder').isDirectory()) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `FUNSD input ${root} is not a folder (it holds annotations/ and images/)`);
  }
  const annDir = path.join(root, 'annotations');
  const imgDir = path.join(root, 'images');
  if (!statOrThrow(annDir, 'FUNSD annotations folder').isDirectory()) throw new DocAnonError(ErrorCode.NOT_FOUND, `${annDir} is not a folder`);
  if (!statOrThrow(imgDir, 'FUNSD images folder').isDirectory()) throw new DocAnonError(ErrorCode.NOT_FOUND, `${imgDir} is not a folder`);
  const files = fs.readdirSync(annDir).filter((n) => n.endsWith('.json')).sort();
  if (files.length === 0) throw new DocAnonError(ErrorCode.INPUT, `FUNSD annotations folder ${annDir} has no *.json files`);
  const out = prepareOutput(output, [root, annDir, imgDir]);
  const report = emptyReport('funsd', out);
  const stems = new Set<string>();
  for (const f of files) {
    const file = path.join(annDir, f);
    const ann = parseJsonFile(FunsdAnnotationSchema, file, 'FUNSD annotation');
    const base = path.basename(f, '.json');
    const imagePath = IMAGE_EXTS.map((e) => path.join(imgDir, base + e)).find((p) => fs.existsSync(p));
    if (!imagePath) throw new DocAnonError(ErrorCode.NOT_FOUND, `${file}: no image ${path.join(imgDir, base)}.png (or .jpg / .jpeg)`);
    const stem = safeStem(base);
    if (stems.has(stem)) throw new DocAnonError(ErrorCode.INPUT, `${file}: output name ${stem} is taken by another annotation (names differ only in unsafe characters)`);
    stems.add(stem);
    const size = await imageSize(imagePath);
    const lines = entitiesToLines(ann.form, size.width, size.height, report);
    writePage(out, stem, imagePath, size, lines, { source: 'funsd', id: base });
    report.pages++;
  }
  return report;
}
