/**
 * The DiffUTE model that ships in the package (assets/models/diffute-small: the DiffUTE small recipe
 * of docs/training.md, with its model card beside the weights): what the diffute engine uses when
 * no model is named, so the learned engine runs on a fresh install with nothing downloaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { packageRoot } from '../core/package-paths';
import { MODEL_INDEX } from './diffute-pipeline';

/** The bundled DiffUTE pipeline folder. */
export const BUNDLED_DIFFUTE_MODEL = path.join(packageRoot, 'assets', 'models', 'diffute-small');

/**
 * The bundled pipeline folder, checked to be there.
 * @throws DocAnonError ERR_NOT_FOUND when the installation lacks it (a trimmed or damaged install).
 */
export function bundledDiffuteModel(dir = BUNDLED_DIFFUTE_MODEL): string {
  if (!fs.existsSync(path.join(dir, MODEL_INDEX))) {
    throw new DocAnonError(
      ErrorCode.NOT_FOUND,
      `the bundled DiffUTE model is missing (${dir}): reinstall the package, or name a DiffUTE pipeline folder or r2:// artifact (model / --model)`,
    );
  }
  return dir;
}
