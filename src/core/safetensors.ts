/**
 * safetensors files: a validated reader with lazy per-tensor loads (pread), and an atomic
 * writer (temp file + rename). Malformed files fail with ERR_SAFETENSORS.
 */
import { native } from '../native/loader';
import type { NativeSafetensorsHandle } from '../native/types';
import { DocAnonError, ErrorCode } from './errors';
import { NativeObject } from './native-object';
import { Tensor } from './tensor';

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

/** An open safetensors file. Only the tensors you load are read. */
export class SafetensorsFile extends NativeObject<NativeSafetensorsHandle> {
  private readonly byName: Map<string, SafetensorsEntry>;

  private constructor(
    handle: NativeSafetensorsHandle,
    readonly path: string,
  ) {
    super(handle);
    this.byName = new Map(handle.entries().map((e) => [e.name, e]));
  }

  /** Opens and validates `path` (the header only; no tensor data is read). */
  static async open(path: string): Promise<SafetensorsFile> {
    if (typeof path !== 'string' || path.length === 0) {
      throw new DocAnonError(ErrorCode.ARGUMENT, 'path must be a non-empty string');
    }
    return new SafetensorsFile(await native().openSafetensors({ path }), path);
  }

  private live(): NativeSafetensorsHandle {
    if (this.handle.disposed) throw new DocAnonError(ErrorCode.DISPOSED, `${this.path} was closed`);
    return this.handle;
  }

  /** Tensor names in data order. */
  keys(): string[] {
    return [...this.byName.keys()];
  }
  entries(): SafetensorsEntry[] {
    return [...this.byName.values()];
  }
  entry(name: string): SafetensorsEntry | undefined {
    return this.byName.get(name);
  }
  /** The `__metadata__` string map. */
  metadata(): Record<string, string> {
    return this.live().metadata();
  }
  /** Reads one tensor into a new CPU tensor. */
  async load(name: string): Promise<Tensor> {
    return new Tensor(await this.live().load({ name }));
  }
  /** Closes the file now (loads in flight finish first): the same as {@link dispose}. Idempotent. */
  close(): void {
    this.dispose();
  }
}

/** Reads every tensor of a file. */
export async function readSafetensors(path: string): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors: Record<string, Tensor> = {};
    for (const name of file.keys()) tensors[name] = await file.load(name);
    return { tensors, metadata: file.metadata() };
  } finally {
    file.close();
  }
}

/** Writes tensors (any device) and optional string metadata, atomically. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new DocAnonError(ErrorCode.ARGUMENT, `tensors['${name}'] is not a Tensor`);
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new DocAnonError(ErrorCode.ARGUMENT, `metadata['${k}'] must be a string`);
    }
  }
  await native().writeSafetensors({ path, names: entries.map(([n]) => n), tensors: entries.map(([, t]) => t.handle), metadata: metadata ?? {} });
}
