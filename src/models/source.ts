/** Resolves a model (or dataset) source, a local folder or an r2:// artifact, to a local folder. */
import * as fs from 'node:fs';
import { DocAnonError, ErrorCode } from '../core/errors';

/**
 * A local directory is returned as is (after checking it exists); `r2://bucket/.../name/version`
 * (or `.../name/latest`) is pulled into the verified local cache first.
 */
export async function resolveModelDir(source: string, what = 'model'): Promise<string> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `${what} source must be a folder path or an r2:// URI`);
  }
  if (source.startsWith('r2://')) {
    const { ArtifactStore } = await import('../storage/store');
    const store = new ArtifactStore();
    try {
      return await store.resolveToLocalDir(source);
    } finally {
      store.close();
    }
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new DocAnonError(ErrorCode.NOT_FOUND, `${what} folder ${source} does not exist`);
  }
  if (!st.isDirectory()) throw new DocAnonError(ErrorCode.ARGUMENT, `${source} is not a folder (expected the ${what}'s files inside)`);
  return source;
}
