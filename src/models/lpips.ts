/**
 * LPIPS v0.1 (VGG16 trunk) exactly as the lpips package computes it, on the native core; a
 * differentiable perceptual loss for VAE training. The learned linear heads ship with this package
 * (assets/lpips, BSD-2-Clause). The VGG16 ImageNet backbone does not: supply torchvision's
 * `vgg16-397923af.pth` converted to safetensors (see docs/lpips.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import { native, packageRoot } from '../native/loader';
import { NativeModel, type ModelLoadOptions, type NativeModelHandle } from './native-model';

/** The bundled v0.1 VGG linear heads. */
export function bundledLpipsHeads(): string {
  return path.join(packageRoot, 'assets', 'lpips', 'lpips_v0.1_vgg_lin.safetensors');
}

export interface LpipsOutput {
  /** Per-sample distance, (N, 1, 1, 1). */
  dist: Tensor;
  /** The five per-layer terms (relu1_2 .. relu5_3), each (N, 1, 1, 1). */
  layers: Tensor[];
  feats0?: Tensor[];
  feats1?: Tensor[];
  /** Squared differences of the unit-normalised features, per layer. */
  diffs?: Tensor[];
  /** d mean(dist) / d in0 (with `gradInput0`). */
  gradInput0?: Tensor;
}

export class Lpips extends NativeModel {
  static readonly kind = 'lpips' as const;

  /** @internal */
  constructor(handle: NativeModelHandle) {
    super(handle);
  }

  /**
   * Loads the VGG16 backbone (`features.N.*` safetensors) and the linear heads (default: the bundled
   * v0.1 VGG heads). A missing backbone is ERR_WEIGHTS with instructions.
   */
  static async load(backbonePath: string, options: ModelLoadOptions & { heads?: string } = {}): Promise<Lpips> {
    if (!fs.existsSync(backbonePath)) {
      throw new DocAnonError(
        ErrorCode.WEIGHTS,
        `LPIPS needs the VGG16 ImageNet backbone, which is not shipped: ${backbonePath} does not exist. ` +
          "Convert torchvision's vgg16-397923af.pth to safetensors (see docs/lpips.md) and pass its path.",
      );
    }
    const { heads, ...rest } = options;
    return new Lpips(await native().loadModel({ ...rest, kind: Lpips.kind, path: backbonePath, heads: heads ?? bundledLpipsHeads() }));
  }

  /** Distances between two batches (N, 3, H, W) in [-1, 1] (or [0, 1] with normalize). */
  forward(in0: Tensor, in1: Tensor, options: { normalize?: boolean; keepFeatures?: boolean; gradInput0?: boolean } = {}): Promise<LpipsOutput> {
    return this.serial(async () => {
      const r = await native().lpipsForward(this.handle, { ...options, in0: in0.handle, in1: in1.handle });
      const wrapList = (l?: Array<import('../native/types').NativeTensorHandle>) => l?.map((h) => new Tensor(h));
      return {
        dist: new Tensor(r.dist),
        layers: r.layers.map((h) => new Tensor(h)),
        feats0: wrapList(r.feats0),
        feats1: wrapList(r.feats1),
        diffs: wrapList(r.diffs),
        gradInput0: r.gradInput0 ? new Tensor(r.gradInput0) : undefined,
      };
    });
  }
}
