/**
 * VAE evaluation: reconstructions of held-out native-resolution crops (the training crops' kind),
 * scored by PSNR, SSIM and (with a backbone) LPIPS, with the KL per sample and the statistics of the
 * posterior means against the scale the UNet expects (`scaling_factor`). The posterior mean is
 * decoded (no sampling), so a run is a pure function of the model, the data and the seed.
 */
import { Tensor } from '../core/tensor';
import type { AutoencoderKL } from '../models/autoencoder-kl';
import type { Lpips } from '../models/lpips';
import type { PageSource } from '../training/data/pages';
import { vaeBatch } from '../training/data/vae-examples';
import { meanStd, psnr, signedNchwToHwc255, ssim, u8HwcToSignedNchw } from './metrics';

/** Options of {@link evaluateVaeModel}. */
export interface VaeEvalOptions {
  /** Crops evaluated (default 32). */
  limit?: number;
  /** Seed of the crop positions (default 0): the same seed, the same crops. */
  seed?: number;
  /** Side of the square crops in page pixels (default 256; a multiple of the VAE's factor). */
  cropSize?: number;
  /** Crops per native call (default 4). */
  batchSize?: number;
  /** Crops taken from one page before the next (default 4). */
  examplesPerPage?: number;
  /** LPIPS model (absent: LPIPS is not reported). */
  lpips?: Lpips | null;
  /** Keep this many (original, reconstruction) pairs for a sample grid (default 0). */
  keepSamples?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Mean and standard deviation of a per-example measure over the evaluated examples. */
export interface Stat {
  mean: number;
  std: number;
}

/** One VAE evaluation. */
export interface VaeEvalReport {
  kind: 'vae';
  examples: number;
  cropSize: number;
  seed: number;
  /** dB, of the reconstruction against the crop (0..255). */
  psnr: Stat;
  ssim: Stat;
  /** Per-sample LPIPS distance; null without an LPIPS model. */
  lpips: Stat | null;
  /** KL(q(z|x) || N(0, I)) per sample, summed over the latent elements (the trainer's KL term). */
  klPerSample: Stat;
  /** The posterior means over all crops and latent elements. */
  latent: {
    mean: number;
    std: number;
    /** The model's scaling_factor. */
    scalingFactor: number;
    /** std * scaling_factor: the UNet expects about 1. */
    scaledStd: number;
    /** 1 / std: the scaling_factor that would make the scaled latents unit-variance. */
    suggestedScalingFactor: number;
  };
  perExample: Array<{ psnr: number; ssim: number; lpips?: number; kl: number }>;
  /** Kept (original, reconstruction) pairs, uint8 HWC (not in the JSON report). */
  samples?: Array<{ original: Uint8Array; reconstruction: Uint8Array; side: number }>;
}

/** Evaluates `vae` on crops of `pages` (see {@link VaeEvalOptions}). */
export async function evaluateVaeModel(vae: AutoencoderKL, pages: PageSource, options: VaeEvalOptions = {}): Promise<VaeEvalReport> {
  const limit = options.limit ?? 32;
  const seed = options.seed ?? 0;
  const side = options.cropSize ?? 256;
  const bs = Math.max(1, Math.min(options.batchSize ?? 4, limit));
  const keep = options.keepSamples ?? 0;
  const per: VaeEvalReport['perExample'] = [];
  const samples: NonNullable<VaeEvalReport['samples']> = [];
  // Running sums of the posterior means (all elements) for their mean / std.
  let lsum = 0;
  let lsq = 0;
  let lcount = 0;
  for (let start = 0; start < limit; start += bs) {
    const b = Math.min(bs, limit - start);
    const batch = await vaeBatch(pages, { seed: seed ^ 0xe7a1, cropSize: side, examplesPerPage: options.examplesPerPage ?? 4 }, start, b);
    const owned: Tensor[] = [];
    try {
      const x = Tensor.from(u8HwcToSignedNchw(batch.images, b, side, side), [b, 3, side, side]);
      owned.push(x);
      const t = await vae.loss({ x, samplePosterior: false, klWeight: 0, recon: 'l1' });
      owned.push(...Object.values(t));
      const cpu = async (v: Tensor): Promise<Tensor> => (v.device === 'cpu' ? v : owned[owned.push(await v.to('cpu')) - 1]);
      const decoded = await (await cpu(t.decoded)).data<'float32'>();
      const kl = await (await cpu(t.kl)).data<'float32'>();
      const mean = await (await cpu(t.mean)).data<'float32'>();
      for (let i = 0; i < mean.length; i++) {
        lsum += mean[i];
        lsq += mean[i] * mean[i];
      }
      lcount += mean.length;
      let dist: Float32Array | undefined;
      if (options.lpips) {
        const dev = t.decoded.device;
        const xin = dev === 'cpu' ? x : owned[owned.push(await x.to(dev)) - 1];
        const r = await options.lpips.forward(t.decoded, xin);
        owned.push(r.dist, ...r.layers);
        dist = await (await cpu(r.dist)).data<'float32'>();
      }
      const recon = signedNchwToHwc255(decoded, b, side, side);
      const n = side * side * 3;
      for (let i = 0; i < b; i++) {
        const orig = batch.images.subarray(i * n, (i + 1) * n);
        const rec = recon.subarray(i * n, (i + 1) * n);
        per.push({ psnr: psnr(orig, rec), ssim: ssim(orig, rec, side, side), ...(dist ? { lpips: dist[i] } : {}), kl: kl[i] });
        if (samples.length < keep) samples.push({ original: Uint8Array.from(orig), reconstruction: Uint8Array.from(rec, (v) => Math.round(v)), side });
      }
    } finally {
      for (const t of owned) t.dispose();
    }
    options.onProgress?.(Math.min(start + b, limit), limit);
  }
  const lmean = lsum / lcount;
  const lstd = Math.sqrt(Math.max(0, lsq / lcount - lmean * lmean));
  const sf = vae.scalingFactor;
  const stat = (f: (e: VaeEvalReport['perExample'][number]) => number): Stat => meanStd(per.map(f));
  return {
    kind: 'vae',
    examples: per.length,
    cropSize: side,
    seed,
    psnr: stat((e) => e.psnr),
    ssim: stat((e) => e.ssim),
    lpips: options.lpips ? stat((e) => e.lpips as number) : null,
    klPerSample: stat((e) => e.kl),
    latent: { mean: lmean, std: lstd, scalingFactor: sf, scaledStd: lstd * sf, suggestedScalingFactor: lstd > 0 ? 1 / lstd : NaN },
    perExample: per,
    ...(keep > 0 ? { samples } : {}),
  };
}
