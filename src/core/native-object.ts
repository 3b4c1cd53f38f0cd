/**
 * The TypeScript side of every long-lived native object (tensor, model, scheduler, safetensors
 * file, trainer, process group): a class over one native handle, with `dispose()` to free it now
 * and `Symbol.dispose` for `using`. A finalizer on the native side frees what is never disposed.
 */
import type { NativeHandle } from '../native/types';

export abstract class NativeObject<H extends NativeHandle = NativeHandle> {
  /** @internal The native handle (src/native/types.ts). */
  readonly handle: H;

  protected constructor(handle: H) {
    this.handle = handle;
  }

  /** True once disposed: any further use is ERR_DISPOSED. */
  get disposed(): boolean {
    return this.handle.disposed;
  }

  /** Frees the native object now (calls already running keep it until they finish). Idempotent. */
  dispose(): void {
    this.handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
