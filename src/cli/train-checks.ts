/**
 * Checks `doc-anon train-*` makes before training (and a dry run reports): whether the device and
 * the rank count are usable here, and whether every model, dataset and LPIPS file the config names
 * exists (local paths) or is published (r2:// artifacts), without downloading anything.
 */
import * as fs from 'node:fs';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';
import { ArtifactStore } from '../storage/store';
import type { TrainConfig } from '../training/config';
import { Tensor } from '../core/tensor';
import { checkDistributedSupport, type ProcessGroup } from '../training/distributed';

/** The problem with training on `device` with `worldSize` ranks here, or undefined when there is none. */
export function deviceCheck(
  device: string,
  nproc: number,
  worldSize: number,
  cuda: { available: boolean; deviceCount: number; builtWithCuda: boolean },
): DocAnonError | undefined {
  if (device.startsWith('cuda') && !cuda.available) {
    return new DocAnonError(
      ErrorCode.DEVICE,
      cuda.builtWithCuda
        ? `--device ${device}: the native core is built with CUDA, but no GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)`
        : `--device ${device}: the native core is built against a CPU-only libtorch; rebuild against a CUDA PyTorch (LIBTORCH=<its torch/ folder> npm run build:native)`,
    );
  }
  const index = /^cuda:(\d+)$/.exec(device);
  if (index && Number(index[1]) >= cuda.deviceCount) {
    return new DocAnonError(ErrorCode.DEVICE, `--device ${device}: there is no such GPU here (${cuda.deviceCount} visible: cuda:0 to cuda:${cuda.deviceCount - 1})`);
  }
  if (worldSize > 1) {
    try {
      checkDistributedSupport(device);
    } catch (e) {
      return e as DocAnonError;
    }
  }
  if (nproc > 1 && device.startsWith('cuda') && cuda.deviceCount < nproc) {
    return new DocAnonError(ErrorCode.DEVICE, `--nproc ${nproc} on CUDA needs ${nproc} GPUs (one per rank), found ${cuda.deviceCount}`);
  }
  return undefined;
}

/** Every file or folder a training config reads, by config key. */
function configSources(cfg: TrainConfig): Array<{ key: string; source: string }> {
  const out: Array<{ key: string; source: string }> = [];
  const add = (key: string, source: string | undefined): void => {
    if (source !== undefined) out.push({ key, source });
  };
  add('model.pretrained', cfg.model.pretrained);
  if (cfg.kind === 'unet') {
    add('vae.pretrained', cfg.vae.pretrained);
    add('glyph_encoder.pretrained', cfg.glyph_encoder.pretrained);
    add('glyph_projection.pretrained', cfg.glyph_projection?.pretrained);
  } else if (cfg.loss.lpips_weight > 0) {
    add('lpips.backbone', cfg.lpips?.backbone);
    add('lpips.heads', cfg.lpips?.heads);
  }
  if (cfg.data.source === 'dataset') add('data.dataset_dir', cfg.data.dataset_dir);
  return out;
}

/** What each source the config names resolved to, and what is missing. */
export interface SourceReport {
  found: Record<string, string>;
  missing: Record<string, string>;
}

/**
 * Checks that every source the config names is there: a local path exists, an r2:// artifact has
 * a published version (its manifest is read, nothing is downloaded). Storage failures other than
 * "nothing published" (no access, unreachable) throw.
 */
export async function checkSources(cfg: TrainConfig, store: ArtifactStore | undefined, log: Logger): Promise<SourceReport> {
  const report: SourceReport = { found: {}, missing: {} };
  let own: ArtifactStore | undefined;
  try {
    for (const { key, source } of configSources(cfg)) {
      if (source.startsWith('r2://')) {
        const s = store ?? (own ??= new ArtifactStore({ logger: log }));
        try {
          const { manifest } = await s.resolve(source);
          report.found[key] = `r2 ${manifest.name}/${manifest.version} (${manifest.files.length} files, ${manifest.totalSize} bytes)`;
        } catch (e) {
          if (!(e instanceof DocAnonError && e.code === ErrorCode.NOT_FOUND)) throw e;
          report.missing[key] = `nothing is published at ${source} (push it with doc-anon artifacts push)`;
        }
      } else if (fs.existsSync(source)) {
        report.found[key] = fs.statSync(source).isDirectory() ? 'local folder' : 'local file';
      } else {
        report.missing[key] = `${source} does not exist`;
      }
    }
  } finally {
    own?.close();
  }
  return report;
}

/**
 * Every rank of a data-parallel job continues from the same step (each chose its checkpoint on
 * its own: local folders differ between machines). A collective; on a mismatch every rank throws
 * ERR_CONFIG, so none waits alone in the first all-reduce.
 */
export async function checkRanksStartTogether(group: Pick<ProcessGroup, 'allGather'>, step: number): Promise<void> {
  const mine = Tensor.from(new Float64Array([step]), [1], 'float64');
  let all: Tensor;
  try {
    all = await group.allGather(mine);
  } finally {
    mine.dispose();
  }
  let steps: number[];
  try {
    steps = Array.from(all.dataSync<'float64'>());
  } finally {
    all.dispose();
  }
  if (steps.some((s) => s !== steps[0])) {
    throw new DocAnonError(
      ErrorCode.CONFIG,
      `the ranks would start from different steps (${steps.map((s, r) => `rank ${r}: ${s}`).join(', ')}): every rank must resume from the same checkpoint; give all machines the same storage.uri (the newest checkpoint there wins) or a shared output folder`,
    );
  }
}
