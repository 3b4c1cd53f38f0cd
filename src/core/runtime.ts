/** Runtime facts about the native core, and thread control. */
import { addonOrigin, native } from '../native/loader';
import type { AddonOrigin } from '../native/loader';
import type { NativeInfo } from '../native/types';
import { DocAnonError, ErrorCode } from './errors';

/** What {@link info} reports. */
export type RuntimeInfo = NativeInfo & {
  /** The package version. */
  version: string;
  /** The binary in use: the prebuilt one shipped in the package, a build from source, or DOC_ANON_NATIVE's. */
  addon: AddonOrigin;
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkgVersion: string = (require('../../package.json') as { version: string }).version;

/** libtorch version, CUDA availability and devices, thread counts, SDPA and build features, and which addon binary runs. */
export function info(): RuntimeInfo {
  const nativeInfo = native().info();
  return { version: pkgVersion, ...nativeInfo, addon: addonOrigin() as AddonOrigin };
}

/**
 * Sets libtorch's intra-op thread count for all later native work. Default: libtorch's choice,
 * the number of physical cores. Call once at startup (a later call applies to later work).
 */
export function setNumThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `threads must be a positive integer, got ${String(threads)}`);
  }
  native().configure({ threads });
}

/**
 * TF32 on CUDA (no effect on CPU). libtorch's default: on for cuDNN convolutions, off for
 * matmuls. TF32 is faster on Ampere/Hopper but only ~1e-3 relative: turn it off for float32 parity.
 */
export function setAllowTf32(allow: boolean): void {
  if (typeof allow !== 'boolean') throw new DocAnonError(ErrorCode.ARGUMENT, 'allow must be a boolean');
  native().configure({ allowTf32: allow });
}
