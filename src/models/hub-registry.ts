/**
 * The models `doc-anon models pull` knows by name: which Hub repository holds them, which of its
 * files this package loads, and (once a maintainer has pinned them with
 * `scripts/pin-hub-models.ts` on a machine that reaches the Hub) the commit and the sha256 of
 * every file. Values are never typed in by hand: a pin is what the Hub answered for a commit.
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import pins from './hub-pins.json';

/** A Hugging Face repository id, `owner/name`. */
export const REPO_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
/** A full git commit id. */
export const COMMIT_RE = /^[0-9a-f]{40}$/;
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** A known model: where it lives and what of it we load. */
export interface KnownModel {
  /** The name users type (`doc-anon models pull sd2-inpainting`). */
  name: string;
  repo: string;
  /** What it is, for `pull --help` and `models ls`. */
  description: string;
  /**
   * The files we load, as path patterns relative to the repository root (`*` matches within one
   * path segment). A pattern ending in `.safetensors` takes the `fp16` variant
   * (`x.fp16.safetensors`) instead of `x.safetensors` when the pull asks for it and the repository
   * has it.
   */
  files: readonly string[];
  /** Used when no file matches `files`' weights pattern (older repositories with only `.bin`). */
  fallbackFiles?: readonly string[];
  /** What to do after the pull, printed by `pull`. */
  next?: string;
}

/** The known models, by name. */
export const KNOWN_MODELS: Readonly<Record<string, KnownModel>> = {
  'sd2-inpainting': {
    name: 'sd2-inpainting',
    repo: 'stabilityai/stable-diffusion-2-inpainting',
    description: 'Stable Diffusion 2 inpainting: the UNet and VAE DiffUTE starts from',
    files: ['model_index.json', 'scheduler/scheduler_config.json', 'unet/config.json', 'unet/diffusion_pytorch_model.safetensors', 'vae/config.json', 'vae/diffusion_pytorch_model.safetensors'],
    next: 'doc-anon models assemble --unet <trained unet> --vae <dir>/vae --glyph-encoder <trocr dir> --out <pipeline>',
  },
  'trocr-large-printed': {
    name: 'trocr-large-printed',
    repo: 'microsoft/trocr-large-printed',
    description: "TrOCR large (printed): DiffUTE's glyph encoder (its ViT encoder)",
    files: ['config.json', 'preprocessor_config.json', 'model.safetensors'],
    fallbackFiles: ['pytorch_model.bin'],
    next: 'doc-anon models convert <dir> --to glyph-encoder is not needed: pass <dir> as --glyph-encoder to models assemble / convert --to pipeline',
  },
  'trocr-base-printed': {
    name: 'trocr-base-printed',
    repo: 'microsoft/trocr-base-printed',
    description: 'TrOCR base (printed): a smaller glyph encoder',
    files: ['config.json', 'preprocessor_config.json', 'model.safetensors'],
    fallbackFiles: ['pytorch_model.bin'],
    next: 'pass <dir> as --glyph-encoder to models assemble / convert --to pipeline',
  },
  'vgg16-lpips': {
    name: 'vgg16-lpips',
    repo: 'timm/vgg16.tv_in1k',
    description: "torchvision's ImageNet VGG16 (as timm publishes it): the LPIPS backbone for VAE training",
    files: ['config.json', 'model.safetensors'],
    next: 'doc-anon models convert <dir>/model.safetensors --out vgg16_features.safetensors',
  },
};

/** The pin of one known model: the commit and the sha256 of every file at that commit. */
export const HubPinSchema = z
  .object({
    revision: z.string().regex(COMMIT_RE, 'revision must be a full 40-hex commit id'),
    /** When the pin was taken (ISO 8601), by scripts/pin-hub-models.ts. */
    pinnedAt: z.string(),
    files: z.record(z.string(), z.object({ size: z.number().int().nonnegative(), sha256: Sha256 }).strict()),
  })
  .strict();
export type HubPin = z.infer<typeof HubPinSchema>;

/** src/models/hub-pins.json: name -> pin (a known model may be unpinned). */
export const HubPinsSchema = z.record(z.string(), HubPinSchema);

/** The pins shipped with this package, validated once. */
export function shippedPins(): Record<string, HubPin> {
  const r = HubPinsSchema.safeParse(pins);
  if (!r.success) throw new DocAnonError(ErrorCode.INTERNAL, `src/models/hub-pins.json is malformed: ${r.error.issues[0]?.message}`);
  for (const name of Object.keys(r.data)) {
    if (!KNOWN_MODELS[name]) throw new DocAnonError(ErrorCode.INTERNAL, `src/models/hub-pins.json pins "${name}", which is not a known model`);
  }
  return r.data;
}

/** What `pull` was asked for, resolved. */
export interface PullSpec {
  repo: string;
  /** The revision asked for (a branch, tag or commit); the pin's commit for a pinned known name. */
  revision: string;
  known?: KnownModel;
  pin?: HubPin;
}

/**
 * Parses `<name|owner/repo>[@revision]`. A known name without `@revision` uses its pin when it has
 * one, else `main`; `@revision` on a pinned name must be the pinned commit (its sha256 values are
 * for that commit only).
 */
export function parsePullSpec(spec: string, pinsByName: Record<string, HubPin> = shippedPins()): PullSpec {
  const at = spec.lastIndexOf('@');
  const id = at > 0 ? spec.slice(0, at) : spec;
  const rev = at > 0 ? spec.slice(at + 1) : undefined;
  if (rev !== undefined && (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(rev) || rev.split('/').some((s) => s === '' || s === '.' || s === '..'))) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `"${rev}" is not a revision (a branch, tag or commit id)`);
  }
  const known = KNOWN_MODELS[id];
  if (known) {
    const pin = pinsByName[id];
    if (pin && rev !== undefined && rev !== pin.revision) {
      throw new DocAnonError(ErrorCode.ARGUMENT, `${id} is pinned to ${pin.revision}; to pull another revision name its repository: ${known.repo}@${rev}`);
    }
    return { repo: known.repo, revision: rev ?? pin?.revision ?? 'main', known, pin };
  }
  if (!REPO_ID_RE.test(id)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `"${id}" is neither a known model (${Object.keys(KNOWN_MODELS).join(', ')}) nor a Hub repository id (owner/name)`);
  }
  return { repo: id, revision: rev ?? 'main' };
}
