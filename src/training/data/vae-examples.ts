/**
 * VAE examples: random square crops of pages at their native resolution (no resizing, so text
 * keeps its real sharpness), anywhere on the page or (`cropAt: 'text'`) around a random OCR line of
 * it, so that a small VAE for text (DiffUTE small) spends its capacity on strokes, not on paper. Example i comes from page floor(i / examplesPerPage) at a position
 * drawn from (seed, i), so the stream restarts exactly from any cursor. Optional light augmentation
 * (data.augment, off by default) continues the same (seed, i) stream, so it resumes exactly too.
 */
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { VaeAugmentConfig } from '../config';
import { Rng } from '../synthetic/random';
import { augmentCrop } from './augment';
import { cropSquare } from './crop';
import { mixSeed, type PageSource } from './pages';
import { dataSlots } from './pool-slots';

export interface VaeBatch {
  /** uint8 [B, H, W, 3]. */
  images: Uint8Array;
  shape: [number, number, number, number];
}

export interface VaeExampleOptions {
  seed: number;
  cropSize: number;
  examplesPerPage: number;
  /** Light augmentation (absent or all off: the crops are the page's pixels). */
  augment?: VaeAugmentConfig;
  /** `random` (default): anywhere on the page; `text`: containing the centre of a random OCR line. */
  cropAt?: 'random' | 'text';
}

/** The crop's top-left corner: uniform on the page, or so that a random line's centre falls inside its middle half. */
function cropOrigin(page: { width: number; height: number; annotation: { document: { text: string; box: number[][] }[] } }, s: number, rng: Rng, at: 'random' | 'text'): [number, number] {
  const lines = at === 'text' ? page.annotation.document.filter((l) => l.text.trim().length > 0) : [];
  if (lines.length === 0) return [rng.int(0, page.width - s), rng.int(0, page.height - s)];
  const line = lines[rng.int(0, lines.length - 1)];
  const cx = (Math.min(...line.box.map((p) => p[0])) + Math.max(...line.box.map((p) => p[0]))) / 2;
  const cy = (Math.min(...line.box.map((p) => p[1])) + Math.max(...line.box.map((p) => p[1]))) / 2;
  const clamp = (v: number, hi: number): number => Math.min(Math.max(0, Math.round(v)), hi);
  return [clamp(cx - s / 2 + rng.int(-Math.floor(s / 4), Math.floor(s / 4)), page.width - s), clamp(cy - s / 2 + rng.int(-Math.floor(s / 4), Math.floor(s / 4)), page.height - s)];
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
  const example = async (b: number): Promise<void> => {
    const i = toDataset(start + b);
    const page = await pages.page(Math.floor(i / o.examplesPerPage));
    if (page.width < s || page.height < s) {
      throw new DocAnonError(ErrorCode.CONFIG, `data.crop_size ${s} is larger than a ${page.width}x${page.height} page`);
    }
    const rng = new Rng(mixSeed(o.seed ^ 0x5eed, i));
    const [x, y] = cropOrigin(page, s, rng, o.cropAt ?? 'random');
    const crop = cropSquare(page, x, y, s);
    images.set(await augmentCrop(crop, s, o.augment, rng), b * s * s * 3);
  };
  // The examples are prepared at once (page decodes and augmentation run on libuv's threads, as
  // many as dataSlots allows); each is a pure function of its index and lands in its own slot,
  // so the batch is the same as one made example by example.
  await Promise.all(Array.from({ length: batchSize }, (_, b) => dataSlots.run(() => example(b))));
  return { images, shape: [batchSize, s, s, 3] };
}
