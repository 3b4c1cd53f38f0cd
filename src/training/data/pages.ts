/**
 * Page sources for training: page p is a pure function of (source, seed, p), so the data stream
 * resumes exactly from a cursor. Synthetic pages come from the generator on the fly; dataset pages
 * from a folder of dataset-format JSON files (image paths may not leave the dataset root).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { MAX_JSON_FILE_BYTES, readRegularFileSync } from '../../core/read-file';
import { decodeImage } from '../../inference/image-io';
import { resolveModelDir } from '../../models/source';
import { MANIFEST_FILE, parseManifest } from '../../storage/manifest';
import type { TrainConfig } from '../config';
import { parseDocumentAnnotation, type DocumentAnnotation } from '../dataset-format';
import { generateDocument } from '../synthetic';
import { Rng } from '../synthetic/random';
import { isHeldOut } from './split';

/** A decoded page: RGB HWC bytes and its OCR lines. */
export interface Page {
  data: Uint8Array;
  width: number;
  height: number;
  annotation: DocumentAnnotation;
}

export interface PageSource {
  page(index: number): Promise<Page>;
  /** The dataset's published version (`<name>/<version>`) when it came from R2. */
  readonly version?: string;
}

export interface SyntheticPageOptions {
  seed: number;
  width: number;
  height: number;
  kinds: Array<'statement' | 'invoice' | 'form'>;
  noise: number;
  blur: number;
  /** Maximum absolute rotation in degrees (each page draws one in [-r, r]). */
  rotation: number;
}

/** 32-bit mix of a seed and an index (distinct streams per page / per example). */
export function mixSeed(seed: number, index: number): number {
  let h = (seed ^ 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (index >>> 0), 0xcc9e2d51) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x1b873593) >>> 0;
  h = (h ^ Math.floor(index / 4294967296)) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** Training pages are RGB; a transparent page is paper, so it is composited onto white. */
async function decodePage(file: string | Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const img = await decodeImage(file, { flatten: '#ffffff' });
  return { data: img.data, width: img.width, height: img.height };
}

/** Caches the last few pages: consecutive examples mostly share a page. */
abstract class CachedSource implements PageSource {
  private readonly cache = new Map<number, Promise<Page>>();
  page(index: number): Promise<Page> {
    let p = this.cache.get(index);
    if (!p) {
      p = this.load(index);
      this.cache.set(index, p);
      p.catch(() => this.cache.delete(index));
      while (this.cache.size > 3) this.cache.delete(this.cache.keys().next().value as number);
    }
    return p;
  }
  protected abstract load(index: number): Promise<Page>;
}

export class SyntheticPages extends CachedSource {
  constructor(private readonly o: SyntheticPageOptions) {
    super();
  }
  protected async load(index: number): Promise<Page> {
    const seed = mixSeed(this.o.seed, index);
    const rng = new Rng(seed);
    const doc = await generateDocument({
      seed,
      kind: this.o.kinds[index % this.o.kinds.length],
      width: this.o.width,
      height: this.o.height,
      noise: this.o.noise,
      blur: this.o.blur,
      rotation: this.o.rotation > 0 ? rng.float(-this.o.rotation, this.o.rotation) : 0,
    });
    return { ...(await decodePage(doc.png)), annotation: doc.annotation };
  }
}

/** A split of a dataset folder: the files held out for evaluation, or the others. */
export interface DatasetSplit {
  /** Fraction of the files held out, in [0, 1) (by a stable hash of the name: see isHeldOut). */
  fraction: number;
  seed?: number;
  part: 'train' | 'val';
}

export class DatasetPages extends CachedSource {
  private readonly files: string[];
  private readonly root: string;
  private readonly realRoot: string;
  readonly version?: string;
  /**
   * `split` keeps one side of a held-out split: `val` the files held out for evaluation, `train`
   * the others (so the training stream never sees a held-out page).
   */
  constructor(root: string, split?: DatasetSplit) {
    super();
    this.root = path.resolve(root);
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      throw new DocAnonError(ErrorCode.IO, `cannot read dataset folder ${root}: ${(e as Error).message}`, { cause: e });
    }
    this.realRoot = fs.realpathSync(this.root);
    // A dataset pulled from R2 also holds the artifact's manifest, which is not an annotation; it
    // names the version (a run resumed on another version of `.../latest` is told so).
    this.files = names.filter((n) => n.endsWith('.json') && n !== MANIFEST_FILE).sort();
    if (split) this.files = this.files.filter((n) => isHeldOut(n, split.fraction, split.seed ?? 0) === (split.part === 'val'));
    if (names.includes(MANIFEST_FILE)) {
      try {
        const m = parseManifest(fs.readFileSync(path.join(this.root, MANIFEST_FILE)), this.root);
        this.version = `${m.name}/${m.version}`;
      } catch {
        // Not an artifact manifest: no version to report.
      }
    }
    if (this.files.length === 0) {
      throw new DocAnonError(ErrorCode.INPUT, `dataset folder ${root} has no *.json annotations${split ? ` in its ${split.part} split (fraction ${split.fraction} held out)` : ''}`);
    }
  }
  /**
   * The real path of a file the dataset names, checked to lie inside the root on its real path (a
   * symbolic link inside the root may point outside it). `what` names it in errors.
   */
  private inside(file: string, what: string): string {
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (e) {
      throw new DocAnonError(ErrorCode.IO, `cannot read ${what}: ${(e as Error).message}`, { cause: e });
    }
    const rel = path.relative(this.realRoot, real);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      throw new DocAnonError(ErrorCode.UNSAFE_KEY, `${what} leaves the dataset root`);
    }
    return real;
  }

  protected async load(index: number): Promise<Page> {
    const file = path.join(this.root, this.files[index % this.files.length]);
    const json = this.inside(file, `annotation ${file}`);
    const annotation = parseDocumentAnnotation(JSON.parse(readRegularFileSync(json, { what: 'annotation', maxBytes: MAX_JSON_FILE_BYTES }).toString('utf8')), file);
    const imageName = annotation.image ?? path.basename(file, '.json') + '.png';
    const image = this.inside(path.resolve(path.dirname(file), imageName), `${file}: image path "${imageName}"`);
    return { ...(await decodePage(image)), annotation };
  }
}

/**
 * The page source of a training config's `data` (VAE or UNet: only the fields both have are read).
 * A `dataset_dir` given as an r2:// artifact is pulled (sha256-verified) into the local cache first.
 * With `val_fraction` the held-out files are left out of this (training) stream.
 */
export async function openPageSource(
  config: Pick<TrainConfig['data'], 'source' | 'dataset_dir' | 'synthetic' | 'seed'> & { val_fraction?: number },
): Promise<PageSource> {
  if (config.source === 'dataset') {
    const split = config.val_fraction !== undefined ? { fraction: config.val_fraction, seed: config.seed, part: 'train' as const } : undefined;
    return new DatasetPages(await resolveModelDir(config.dataset_dir as string, 'dataset'), split);
  }
  const s = config.synthetic;
  return new SyntheticPages({ seed: config.seed, width: s.page_width, height: s.page_height, kinds: s.kinds, noise: s.noise, blur: s.blur, rotation: s.rotation });
}

/** The seed of the held-out synthetic pages: another stream than training's for the same data.seed. */
export function heldOutSyntheticSeed(seed: number): number {
  return mixSeed(seed ^ 0x5a1d, 0xe7a1);
}

/**
 * The held-out pages of a training config's `data` for its evaluations: `val_dir`; the
 * `val_fraction` of dataset_dir kept out of training; or, for synthetic data, pages of another seed.
 * @throws DocAnonError ERR_CONFIG for a dataset source with neither val_dir nor val_fraction.
 */
export async function openValPages(
  config: Pick<TrainConfig['data'], 'source' | 'dataset_dir' | 'synthetic' | 'seed'> & { val_dir?: string; val_fraction?: number },
): Promise<PageSource> {
  if (config.val_dir !== undefined) return new DatasetPages(await resolveModelDir(config.val_dir, 'validation dataset'));
  if (config.source === 'dataset') {
    if (config.val_fraction === undefined) {
      throw new DocAnonError(ErrorCode.CONFIG, 'eval needs held-out pages: set data.val_dir (a folder of its own) or data.val_fraction (e.g. 0.05 of dataset_dir, kept out of training)');
    }
    return new DatasetPages(await resolveModelDir(config.dataset_dir as string, 'dataset'), { fraction: config.val_fraction, seed: config.seed, part: 'val' });
  }
  const s = config.synthetic;
  return new SyntheticPages({ seed: heldOutSyntheticSeed(config.seed), width: s.page_width, height: s.page_height, kinds: s.kinds, noise: s.noise, blur: s.blur, rotation: s.rotation });
}
