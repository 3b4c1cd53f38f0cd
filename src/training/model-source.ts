/** Builds the models a training config names: pretrained folders / r2:// artifacts, or a config from random init. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { AutoencoderKL, type AutoencoderKLConfig } from '../models/autoencoder-kl';
import { GlyphEncoder, type ViTConfig } from '../models/glyph-encoder';
import { DocAnonError, ErrorCode } from '../core/errors';
import { Lpips } from '../models/lpips';
import { resolveModelDir } from '../models/source';
import { UNet2DConditionModel, type UNet2DConditionConfig } from '../models/unet-2d-condition';

export interface ModelSource {
  pretrained?: string;
  config?: Record<string, unknown>;
  /** Random-init seed (with `config`; default 0). */
  seed?: number;
}

/** Training keeps float32 master weights; bf16 is only autocast's compute dtype on CUDA. */
export async function buildVae(src: ModelSource, device: string): Promise<AutoencoderKL> {
  return src.pretrained
    ? AutoencoderKL.fromPretrained(src.pretrained, { device, dtype: 'float32' })
    : AutoencoderKL.fromConfig(src.config as AutoencoderKLConfig, { device, dtype: 'float32', seed: src.seed ?? 0 });
}

/**
 * The UNet a config names, with `inChannels` input channels when given: a pretrained UNet with
 * fewer grows them on load (conv_in's new weights at zero); a new one's config must have them.
 */
export async function buildUnet(src: ModelSource, device: string, inChannels?: number): Promise<UNet2DConditionModel> {
  if (src.pretrained) {
    const unet = await UNet2DConditionModel.fromPretrained(src.pretrained, { device, dtype: 'float32' });
    if (inChannels === undefined || unet.config.in_channels === inChannels) return unet;
    unet.dispose();
    return UNet2DConditionModel.fromPretrained(src.pretrained, { device, dtype: 'float32', inChannels });
  }
  const config = src.config as unknown as UNet2DConditionConfig;
  if (inChannels !== undefined && config.in_channels !== inChannels) {
    throw new DocAnonError(
      ErrorCode.CONFIG,
      `model.config.in_channels is ${config.in_channels}, but the VAE and glyph_aligned need ${inChannels} (2 * latent_channels + 1, plus the glyph channels): set in_channels: ${inChannels}`,
    );
  }
  return UNet2DConditionModel.fromConfig(config, { device, dtype: 'float32', seed: src.seed ?? 0 });
}

export async function buildGlyphEncoder(src: ModelSource, device: string): Promise<GlyphEncoder> {
  return src.pretrained
    ? GlyphEncoder.fromPretrained(src.pretrained, { device })
    : GlyphEncoder.fromConfig(src.config as unknown as ViTConfig, { device, seed: src.seed ?? 0 });
}

/**
 * The file an `lpips.backbone` or `lpips.heads` names: a local file, or an r2:// artifact (pulled
 * into the verified cache) holding exactly one `.safetensors` (or `.safetensors.gz`) file.
 */
async function lpipsFile(source: string, key: string): Promise<string> {
  if (!source.startsWith('r2://')) return source;
  const dir = await resolveModelDir(source, key);
  const files = fs.readdirSync(dir).filter((n) => /\.safetensors(\.gz)?$/.test(n));
  if (files.length !== 1) {
    throw new DocAnonError(ErrorCode.CONFIG, `${key} ${source} must hold exactly one .safetensors file, found ${files.length ? files.join(', ') : 'none'}`);
  }
  return path.join(dir, files[0]);
}

/** LPIPS with a backbone file that may be gzip-compressed (the test fixture is) or in R2; heads may be in R2 too. */
export async function buildLpips(backbone: string, heads: string | undefined, device: string): Promise<Lpips> {
  const source = await lpipsFile(backbone, 'lpips.backbone');
  const headsFile = heads === undefined ? undefined : await lpipsFile(heads, 'lpips.heads');
  let file = source;
  let tmp: string | undefined;
  if (source.endsWith('.gz') && fs.existsSync(source)) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-lpips-'));
    file = path.join(tmp, path.basename(source, '.gz'));
    fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(source)));
  }
  try {
    return await Lpips.load(file, { heads: headsFile, device });
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
