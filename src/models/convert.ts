/**
 * Weight conversion without Python: a torch.save checkpoint (read by libtorch in the native core,
 * models/torch-checkpoint.ts) or a safetensors file, its keys mapped to our layouts, written as
 * safetensors with every kept tensor bit for bit. What a conversion took and left is reported;
 * the written files are then loaded through the strict loaders (every key, every shape).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { SafetensorsFile, writeSafetensors } from '../core/safetensors';
import type { Tensor } from '../core/tensor';
import { Lpips } from './lpips';
import { disposeStateDict, isTorchCheckpointFile, readTorchStateDict } from './torch-checkpoint';

/** What happened to one component (or one file) of a conversion. */
export interface ComponentReport {
  component: string;
  /** Where it came from. */
  source: string;
  /** converted: weights read and rewritten; copied: files copied as they were; linked: named in `_sources`; default: written by us. */
  action: 'converted' | 'copied' | 'linked' | 'default';
  /** Container of the source weights, for a conversion. */
  format?: 'torch' | 'safetensors';
  /** Tensors written. */
  taken: number;
  /** Tensors of the source not written (e.g. VGG16's classifier, TrOCR's decoder). */
  left: string[];
  /** Keys renamed from a deprecated diffusers name (`attentions.N.query` -> `to_q` ...). */
  renamed: number;
  /** Entries of a torch checkpoint that were not tensors. */
  skipped?: string[];
}

/** The report of a conversion, assembly or promotion (the CLI prints it as JSON). */
export interface ConversionReport {
  out: string;
  components: ComponentReport[];
}

/** Tensors read from a weights file, whichever container it is. */
export interface LoadedWeights {
  tensors: Map<string, Tensor>;
  skipped: string[];
  format: 'torch' | 'safetensors';
}

/** Reads every tensor of a `.safetensors` or torch.save (`.pth` / `.bin` / `.pt`) file. */
export async function readWeightsFile(file: string): Promise<LoadedWeights> {
  if (!fs.existsSync(file)) throw new DocAnonError(ErrorCode.NOT_FOUND, `${file} does not exist`);
  if (file.endsWith('.safetensors')) {
    const f = await SafetensorsFile.open(file);
    try {
      const tensors = new Map<string, Tensor>();
      for (const k of f.keys()) tensors.set(k, await f.load(k));
      return { tensors, skipped: [], format: 'safetensors' };
    } finally {
      f.close();
    }
  }
  if (!isTorchCheckpointFile(file)) {
    throw new DocAnonError(ErrorCode.UNSUPPORTED, `${file}: expected a .safetensors file or a torch.save checkpoint (.pth, .pt, .bin, .ckpt)`);
  }
  const sd = await readTorchStateDict(file);
  return { tensors: sd.tensors, skipped: sd.skipped, format: 'torch' };
}

/** Frees the tensors of {@link readWeightsFile}. */
export function disposeWeights(w: { tensors: Map<string, Tensor> }): void {
  disposeStateDict(w);
}

// diffusers before 0.14 named attention-block projections query/key/value/proj_attn (SD2's own
// VAE files still do); diffusers renames them on load, so we do the same when converting.
const DEPRECATED_ATTENTION = /^(.*\.attentions\.\d+\.)(query|key|value|proj_attn)\.(weight|bias)$/;
const RENAMED: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };

/** True when some keys use diffusers' deprecated attention names (they need {@link mapDiffusersKeys}). */
export function hasDeprecatedAttentionKeys(keys: Iterable<string>): boolean {
  for (const k of keys) if (DEPRECATED_ATTENTION.test(k)) return true;
  return false;
}

/**
 * Maps a diffusers model's keys to today's names: strips a DistributedDataParallel `module.`
 * prefix (when every key has it) and renames deprecated attention projections. Returns the new
 * map and how many keys were renamed.
 */
export function mapDiffusersKeys(tensors: Map<string, Tensor>): { tensors: Map<string, Tensor>; renamed: number } {
  const keys = [...tensors.keys()];
  const ddp = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const out = new Map<string, Tensor>();
  let renamed = 0;
  for (const [k0, t] of tensors) {
    let k = ddp ? k0.slice('module.'.length) : k0;
    const m = DEPRECATED_ATTENTION.exec(k);
    if (m) {
      k = `${m[1]}${RENAMED[m[2]]}.${m[3]}`;
      renamed++;
    }
    if (out.has(k)) throw new DocAnonError(ErrorCode.WEIGHTS, `two checkpoint keys map to '${k}' (one of them is '${k0}')`);
    out.set(k, t);
  }
  return { tensors: out, renamed };
}

/** torchvision VGG16's convolution keys, the ones LPIPS loads. */
const VGG_FEATURE_KEY = /^features\.\d+\.(weight|bias)$/;

/**
 * Converts torchvision's VGG16 checkpoint (`vgg16-397923af.pth`, or any state dict of
 * `torchvision.models.vgg16`) into the backbone safetensors {@link Lpips.load} reads: every
 * `features.*` tensor kept bit for bit under its own name, the classifier dropped. The written
 * file is loaded once as LPIPS (strict) before this returns.
 * Reads the legacy (pre-1.6) container of the 2017 file as well as the zip one.
 * @throws DocAnonError ERR_WEIGHTS when the result does not load as LPIPS's backbone (a missing or
 * mis-shaped layer), ERR_UNSUPPORTED for a file that is not a torch.save checkpoint.
 */
export async function convertVgg16(src: string, out: string): Promise<ConversionReport> {
  const w = await readWeightsFile(src);
  try {
    const taken = new Map([...w.tensors].filter(([k]) => VGG_FEATURE_KEY.test(k)));
    const left = [...w.tensors.keys()].filter((k) => !taken.has(k));
    if (taken.size === 0) {
      throw new DocAnonError(ErrorCode.WEIGHTS, `${src} has no features.N.weight / features.N.bias tensors: is it torchvision's vgg16 state dict?`);
    }
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    await writeSafetensors(out, taken, { format: 'pt', source: path.basename(src) });
    try {
      (await Lpips.load(out)).dispose();
    } catch (e) {
      fs.rmSync(out, { force: true });
      throw e;
    }
    return { out, components: [{ component: 'lpips_backbone', source: src, action: 'converted', format: w.format, taken: taken.size, left, renamed: 0, skipped: w.skipped }] };
  } finally {
    disposeWeights(w);
  }
}
