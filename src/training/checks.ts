/**
 * Checks a training job makes before training (and a dry run reports): whether the device and
 * the rank count are usable here, and whether every model, dataset and LPIPS file the config names
 * exists (local paths) or is published (r2:// artifacts), without downloading anything.
 */
import * as fs from 'node:fs';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';
import { readR2Settings } from '../storage/client';
import { ArtifactStore } from '../storage/store';
import type { TrainConfig } from './config';
import { Tensor } from '../core/tensor';
import { checkDistributedSupport, type ProcessGroup } from './distributed';

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
  if (cfg.eval) add('data.val_dir', cfg.data.val_dir);
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

/** One problem a dry run found, with what to do about it. */
export interface Finding {
  /** What was checked: a config key (`model.pretrained`), `r2`, `storage.uri` or `device`. */
  check: string;
  problem: string;
  fix: string;
  code: ErrorCode;
}

/** What {@link planFindings} checks. */
export interface PlanCheckInput {
  cfg: TrainConfig;
  device: string;
  nproc: number;
  worldSize: number;
  cuda: { available: boolean; deviceCount: number; builtWithCuda: boolean };
  log: Logger;
  /** Environment the R2 variables come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The store to check r2:// sources and storage.uri with (default: a new ArtifactStore from `env`). */
  makeStore?: () => Pick<ArtifactStore, 'resolve' | 'listVersions' | 'close'>;
}

const SOURCE_FIXES: Record<string, string> = {
  'model.pretrained': 'put the model folder there (diffusers layout: config.json + weights), push it with `doc-anon artifacts push`, or point model.pretrained at one',
  'vae.pretrained': 'put the VAE folder there (e.g. stable-diffusion-2-inpainting/vae) or point vae.pretrained at one',
  'glyph_encoder.pretrained': 'put the TrOCR folder there (e.g. microsoft/trocr-large-printed) or point glyph_encoder.pretrained at one',
  'glyph_projection.pretrained': 'point glyph_projection.pretrained at a saved projection, or give glyph_projection.seed for a new one',
  'lpips.backbone': "convert torchvision's VGG16 to safetensors (docs/lpips.md), or set loss.lpips_weight: 0",
  'lpips.heads': 'remove lpips.heads to use the bundled v0.1 heads, or point it at a heads file',
  'data.dataset_dir': 'create it (`doc-anon dataset import`, or your own dataset-format folder), or use data.source: synthetic',
  'data.val_dir': 'create the held-out dataset folder, or hold out a fraction of dataset_dir with data.val_fraction instead',
};

/**
 * Every problem that would stop the run, found at once (a dry run reports them all, so one run of
 * it tells a user everything to fix): missing R2 variables, each missing model, weight file or
 * dataset (local, or r2:// with nothing published), a storage bucket that cannot be reached, and a
 * device that is not there. Nothing is downloaded.
 */
export async function planFindings(input: PlanCheckInput): Promise<{ findings: Finding[]; sources: SourceReport }> {
  const { cfg, env = process.env } = input;
  const findings: Finding[] = [];
  const sources: SourceReport = { found: {}, missing: {} };
  const list = configSources(cfg);
  const needsR2 = cfg.storage.uri !== undefined || list.some((s) => s.source.startsWith('r2://'));
  let r2Ready = false;
  if (needsR2) {
    try {
      readR2Settings(env);
      r2Ready = true;
    } catch (e) {
      findings.push({
        check: 'r2',
        problem: (e as Error).message,
        fix: 'export R2_ACCOUNT_ID, R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY (or R2_ENDPOINT for another S3 server), or remove storage.uri and use local paths',
        code: ErrorCode.CONFIG,
      });
    }
  }
  let store: Pick<ArtifactStore, 'resolve' | 'listVersions' | 'close'> | undefined;
  const getStore = () => (store ??= input.makeStore ? input.makeStore() : new ArtifactStore({ logger: input.log, clientOptions: { env } }));
  try {
    for (const { key, source } of list) {
      const fix = SOURCE_FIXES[key] ?? `fix ${key} in the config`;
      if (source.startsWith('r2://')) {
        if (!r2Ready) {
          sources.missing[key] = `${source} cannot be checked without the R2 variables`;
          findings.push({ check: key, problem: sources.missing[key], fix: 'set the R2 variables (see the r2 finding) and run the dry run again', code: ErrorCode.CONFIG });
          continue;
        }
        try {
          const { manifest } = await getStore().resolve(source);
          sources.found[key] = `r2 ${manifest.name}/${manifest.version} (${manifest.files.length} files, ${manifest.totalSize} bytes)`;
        } catch (e) {
          const nothing = e instanceof DocAnonError && e.code === ErrorCode.NOT_FOUND;
          sources.missing[key] = nothing ? `nothing is published at ${source}` : `${source} cannot be read: ${(e as Error).message}`;
          findings.push({ check: key, problem: sources.missing[key], fix: nothing ? `push it (doc-anon artifacts push DIR ${source}) or ${fix}` : 'check the bucket name, the token\'s permissions and the network', code: nothing ? ErrorCode.NOT_FOUND : ErrorCode.STORAGE });
        }
      } else if (fs.existsSync(source)) {
        sources.found[key] = fs.statSync(source).isDirectory() ? 'local folder' : 'local file';
      } else {
        sources.missing[key] = `${source} does not exist`;
        findings.push({ check: key, problem: sources.missing[key], fix, code: ErrorCode.NOT_FOUND });
      }
    }
    if (cfg.storage.uri && r2Ready) {
      try {
        await getStore().listVersions(cfg.storage.uri);
      } catch (e) {
        if (!(e instanceof DocAnonError && e.code === ErrorCode.NOT_FOUND)) {
          findings.push({
            check: 'storage.uri',
            problem: `${cfg.storage.uri} cannot be reached: ${(e as Error).message}`,
            fix: "check the bucket exists, the token may read and write it, and the endpoint is reachable from here; or remove storage.uri",
            code: ErrorCode.STORAGE,
          });
        }
      }
    }
  } finally {
    store?.close();
  }
  const device = deviceCheck(input.device, input.nproc, input.worldSize, input.cuda);
  if (device) findings.push({ check: 'device', problem: device.message, fix: 'run where that device is (e.g. on Modal), or use --device cpu / another --nproc', code: ErrorCode.DEVICE });
  return { findings, sources };
}

/** The findings as lines for a terminal (problem, then its fix). */
export function formatFindings(findings: Finding[]): string {
  if (findings.length === 0) return 'dry run: no problems found\n';
  return `dry run: ${findings.length} problem(s):\n${findings.map((f, i) => `  ${i + 1}. [${f.check}] ${f.problem}\n     fix: ${f.fix}`).join('\n')}\n`;
}
