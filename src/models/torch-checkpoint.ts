/**
 * PyTorch checkpoint files (`torch.save`: .pth / .bin / .pt) as state dicts, read in the native
 * core: no Python. The zip container (PyTorch >= 1.6) is opened with libtorch's
 * PyTorchStreamReader, the legacy container (before 1.6, e.g. torchvision's 2017
 * vgg16-397923af.pth) record by record, and the pickles by a restricted state-dict unpickler
 * (libtorch's jit Unpickler cannot read Python's OrderedDict state dicts). The PyTorch 0.1 tar
 * container is refused with ERR_UNSUPPORTED saying how to re-save it.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';

/** A state dict read from a torch.save file. */
export interface TorchStateDict {
  /** name -> tensor (CPU, contiguous, dtype as stored), in the file's order. */
  tensors: Map<string, Tensor>;
  /** Entries that are not tensors (kept out of the conversion, reported). */
  skipped: string[];
  /** The key the state dict was nested under ("state_dict", "model", "module"), or "" at top level. */
  wrapper: string;
}

/** File name endings read as torch.save checkpoints. */
export const TORCH_CHECKPOINT_EXTENSIONS = ['.pth', '.pt', '.bin', '.ckpt'] as const;

/** True when `file` has a torch.save checkpoint's extension. */
export function isTorchCheckpointFile(file: string): boolean {
  return TORCH_CHECKPOINT_EXTENSIONS.some((e) => file.endsWith(e));
}

/**
 * Reads a torch.save'd state dict: a dict or `collections.OrderedDict` of name -> tensor, or one
 * wrapped as `{"state_dict": ...}` / `{"model": ...}` / `{"module": ...}`. Nothing in the pickle is
 * executed: other objects beside the tensors (an epoch, argparse args) are listed in `skipped`;
 * a file holding no state dict (a whole pickled nn.Module) is ERR_WEIGHTS.
 */
export async function readTorchStateDict(path: string): Promise<TorchStateDict> {
  if (typeof path !== 'string' || path.length === 0) throw new DocAnonError(ErrorCode.ARGUMENT, 'path must be a non-empty string');
  const r = await native().readTorchStateDict({ path });
  const tensors = new Map<string, Tensor>();
  r.names.forEach((n, i) => tensors.set(n, new Tensor(r.tensors[i])));
  return { tensors, skipped: r.skipped, wrapper: r.wrapper };
}

/**
 * Writes tensors as torch.save writes a state dict (zip container), atomically; `wrapper` nests
 * the dict under that key. Tests build their `.pth` / `.bin` inputs with it.
 */
export async function writeTorchStateDict(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, options: { wrapper?: string } = {}): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new DocAnonError(ErrorCode.ARGUMENT, `tensors['${name}'] is not a Tensor`);
  }
  await native().writeTorchStateDict({ path, names: entries.map(([n]) => n), tensors: entries.map(([, t]) => t.handle), wrapper: options.wrapper ?? '' });
}

/** Disposes every tensor of a state dict. */
export function disposeStateDict(sd: { tensors: Map<string, Tensor> }): void {
  for (const t of sd.tensors.values()) t.dispose();
  sd.tensors.clear();
}
