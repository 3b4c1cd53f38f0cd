/** Runtime facts about the native core, and thread control. */
import { native } from '../native/loader';
import type { NativeInfo } from '../native/types';
import { DocAnonError, ErrorCode } from './errors';

export type RuntimeInfo = NativeInfo & { version: string };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkgVersion: string = (require('../../package.json') as { version: string }).version;

/** libtorch version, CUDA availability and devices, thread counts, SDPA and build features. */
export function info(): RuntimeInfo {
  return { version: pkgVersion, ...native().info() };
}

/**
 * Sets libtorch's intra-op thread count for all later native work. Default: libtorch's choice,
 * the number of physical cores. Call once at startup (a later call applies to later work).
 */
export function setNumThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `threads must be a positive integer, got ${String(threads)}`);
  }
  native().setNumThreads(threads);
}

/**
 * TF32 on CUDA (no effect on CPU). libtorch's default: on for cuDNN convolutions, off for
 * matmuls. TF32 is faster on Ampere/Hopper but only ~1e-3 relative: turn it off for float32 parity.
 */
export function setAllowTf32(allow: boolean): void {
  if (typeof allow !== 'boolean') throw new DocAnonError(ErrorCode.ARGUMENT, 'allow must be a boolean');
  native().setAllowTf32(allow);
}
