/**
 * VAE examples: random square crops of pages at their native resolution (no resizing, so text
 * keeps its real sharpness). Example i comes from page floor(i / examplesPerPage) at a position
 * drawn from (seed, i), so the stream restarts exactly from any cursor.
 */
import { DocAnonError, ErrorCode } from '../../core/errors';
import { Rng } from '../synthetic/random';
import { cropSquare } from './crop';
import { mixSeed, type PageSource } from './pages';

export interface VaeBatch {
  /** uint8 [B, H, W, 3]. */
  images: Uint8Array;
  shape: [number, number, number, number];
}

export interface VaeExampleOptions {
  seed: number;
  cropSize: number;
  examplesPerPage: number;
}

/** Local examples start .. start + batchSize - 1; `toDataset` maps each to its dataset index (a rank's shard). */
export async function vaeBatch(
  pages: PageSource,
  o: VaeExampleOptions,
  start: number,
  batchSize: number,
  toDataset: (local: number) => number = (i) => i,
): Promise<VaeBatch> {
  const s = o.cropSize;
  const images = new Uint8Array(batchSize * s * s * 3);
  for (let b = 0; b < batchSize; b++) {
    const i = toDataset(start + b);
    const page = await pages.page(Math.floor(i / o.examplesPerPage));
    if (page.width < s || page.height < s) {
      throw new DocAnonError(ErrorCode.CONFIG, `data.crop_size ${s} is larger than a ${page.width}x${page.height} page`);
    }
    const rng = new Rng(mixSeed(o.seed ^ 0x5eed, i));
    images.set(cropSquare(page, rng.int(0, page.width - s), rng.int(0, page.height - s), s), b * s * s * 3);
  }
  return { images, shape: [batchSize, s, s, 3] };
}
