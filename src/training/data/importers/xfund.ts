/**
 * XFUND importer. Input: one split file (e.g. `zh.train.json`) or a folder of them, images beside
 * each file. A split file is `{ "lang", "version", "split", "documents": [ { "id", "uid"?,
 * "document": [ <FUNSD-style form entity> ], "img": { "fname", "width", "height" } } ] }`; every
 * form entity becomes one OCR line of the dataset format.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../../../core/errors';
import {
  emptyReport, entitiesToLines, FormEntitySchema, imageSize, parseJsonFile, prepareOutput, safeStem, statOrThrow, writePage,
  type ImportReport,
} from './common';

/** One XFUND split file (strict: unknown keys are rejected). */
export const XfundSplitSchema = z.strictObject({
  lang: z.string().min(1),
  version: z.union([z.string(), z.number()]),
  split: z.string().min(1),
  documents: z.array(
    z.strictObject({
      id: z.string().min(1),
      uid: z.string().optional(),
      document: z.array(FormEntitySchema),
      img: z.strictObject({
        fname: z.string().min(1),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
      }),
    }),
  ),
});
export type XfundSplit = z.infer<typeof XfundSplitSchema>;

/** Imports an XFUND split file, or every `*.json` split file of a folder, into `output`. */
export async function importXfund(input: string, output: string): Promise<ImportReport> {
  const src = path.resolve(input);
  let files: string[];
  if (statOrThrow(src, 'XFUND input').isDirectory()) {
    files = fs.readdirSync(src).filter((n) => n.endsWith('.json')).sort().map((n) => path.join(src, n));
    if (files.length === 0) throw new DocAnonError(ErrorCode.INPUT, `XFUND folder ${src} has no *.json split files`);
  } else {
    files = [src];
  }
  const out = prepareOutput(output, [...new Set(files.map((f) => path.dirname(f)))]);
  const report = emptyReport('xfund', out);
  const stems = new Map<string, string>();
  for (const file of files) {
    const split = parseJsonFile(XfundSplitSchema, file, 'XFUND split file');
    const dir = path.dirname(file);
    for (const [i, doc] of split.documents.entries()) {
      const where = `${file}: documents[${i}] (${doc.id})`;
      const imagePath = path.resolve(dir, doc.img.fname);
      const rel = path.relative(dir, imagePath);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
        throw new DocAnonError(ErrorCode.UNSAFE_KEY, `${where}: img.fname "${doc.img.fname}" leaves the folder of the split file`);
      }
      if (!fs.existsSync(imagePath)) throw new DocAnonError(ErrorCode.NOT_FOUND, `${where}: image ${imagePath} does not exist`);
      const stem = safeStem(doc.id);
      const previous = stems.get(stem);
      if (previous !== undefined) throw new DocAnonError(ErrorCode.INPUT, `${where}: document id gives output name ${stem}, as ${previous} did`);
      stems.set(stem, where);
      const actual = await imageSize(imagePath);
      if (actual.width !== doc.img.width || actual.height !== doc.img.height) {
        throw new DocAnonError(
          ErrorCode.INPUT,
          `${where}: img says ${doc.img.width}x${doc.img.height} but ${imagePath} is ${actual.width}x${actual.height} (boxes would not match the pixels)`,
        );
      }
      const size = { width: doc.img.width, height: doc.img.height };
      const lines = entitiesToLines(doc.document, size.width, size.height, report);
      writePage(out, stem, imagePath, size, lines, { source: 'xfund', id: doc.id, lang: split.lang, split: split.split });
      report.pages++;
    }
  }
  return report;
}
