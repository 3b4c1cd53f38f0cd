/**
 * Data-parallel training: how a process learns its rank (torchrun's environment variables) and the
 * c10d process group it joins (native/src/dist). Each rank trains on its own shard of the examples
 * (rank, rank + W, ...); the native trainer averages the gradients over the ranks every step, so W
 * ranks with batch B train exactly like one process with batch W x B.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { NativeObject } from '../core/native-object';
import { Tensor } from '../core/tensor';
import { native } from '../native/loader';
import type { NativeProcessGroupHandle } from '../native/types';

/** A rank's place in the job, as torchrun (or `doc-anon train-* --nproc N`) sets it. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  /** Ranks on this machine (LOCAL_WORLD_SIZE; defaults to worldSize). */
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

/** The single-process "job". */
export const SINGLE: DistEnv = { rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1, masterAddr: '127.0.0.1', masterPort: 0 };

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new DocAnonError(ErrorCode.CONFIG, `${name} must be set for distributed training (WORLD_SIZE > 1)`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new DocAnonError(ErrorCode.CONFIG, `${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

/** Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT; single process when WORLD_SIZE is unset or 1. */
export function distEnvFromProcess(env: NodeJS.ProcessEnv = process.env): DistEnv {
  const worldSize = envInt(env, 'WORLD_SIZE', 1, 65536, 1);
  if (worldSize === 1) return SINGLE;
  const rank = envInt(env, 'RANK', 0, worldSize - 1);
  const localWorldSize = envInt(env, 'LOCAL_WORLD_SIZE', 1, worldSize, worldSize);
  return {
    rank,
    worldSize,
    localRank: envInt(env, 'LOCAL_RANK', 0, localWorldSize - 1, rank),
    localWorldSize,
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort: envInt(env, 'MASTER_PORT', 1, 65535),
  };
}

/** The device of a rank: CUDA ranks each take their own GPU (cuda:LOCAL_RANK); CPU ranks share the CPU. */
export function rankDevice(device: string, d: DistEnv): string {
  if (d.worldSize === 1 || !device.startsWith('cuda')) return device;
  return `cuda:${d.localRank}`;
}

/** Rejects, with the reason, a job this build cannot run (before any rank waits on the others). */
export function checkDistributedSupport(device: string): void {
  const info = native().info();
  if (device.startsWith('cuda') && !info.nccl) {
    throw new DocAnonError(ErrorCode.UNSUPPORTED, 'distributed CUDA training needs NCCL, which this libtorch build lacks');
  }
  if (!device.startsWith('cuda') && !info.gloo) {
    throw new DocAnonError(
      ErrorCode.UNSUPPORTED,
      'distributed CPU training needs Gloo: the native addon was built without the gloo headers (install libgloo-dev, then run npm run build:native)',
    );
  }
}

/** A joined c10d process group (Gloo on CPU, NCCL on CUDA). */
export class ProcessGroup extends NativeObject<NativeProcessGroupHandle> {
  private constructor(
    handle: NativeProcessGroupHandle,
    readonly env: DistEnv,
  ) {
    super(handle);
  }

  /** Resolves once all ranks have joined (rank 0 hosts the TCPStore). */
  static async join(env: DistEnv, device: string, timeoutMs = 30 * 60 * 1000): Promise<ProcessGroup> {
    checkDistributedSupport(device);
    const h = await native().distInit({ rank: env.rank, worldSize: env.worldSize, masterAddr: env.masterAddr, masterPort: env.masterPort, device, timeoutMs });
    return new ProcessGroup(h, env);
  }

  get rank(): number {
    return this.env.rank;
  }
  get worldSize(): number {
    return this.env.worldSize;
  }

  /** @internal The native handle (for createTrainer). */
  get nativeHandle(): NativeProcessGroupHandle {
    return this.handle;
  }

  get backend(): string {
    return this.handle.info().backend;
  }

  barrier(): Promise<void> {
    return this.handle.barrier();
  }

  /** Every rank's `tensor` (same shape and dtype everywhere), stacked in rank order on the CPU. A collective. */
  async allGather(tensor: Tensor): Promise<Tensor> {
    return new Tensor(await this.handle.allGather({ tensor: tensor.handle }));
  }

  /** Each tensor in place becomes its mean over the ranks. A collective. */
  allReduceMean(tensors: Tensor[]): Promise<void> {
    return this.handle.allReduceMean({ tensors: tensors.map((t) => t.handle) });
  }

  /** True on every rank when `flag` is true on any rank (e.g. one rank got SIGINT). A collective. */
  any(flag: boolean): Promise<boolean> {
    return this.handle.any({ flag });
  }
}
