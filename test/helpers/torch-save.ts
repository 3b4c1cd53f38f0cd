/**
 * Test helper: writes state dicts byte for byte the way Python's `torch.save(model.state_dict())`
 * does, which libtorch's own writer (writeTorchStateDict: a plain dict, v2 tensors) cannot: a
 * `collections.OrderedDict` with its `_metadata` attribute (BUILD), memoized globals (BINGET), in
 * the zip container (PyTorch >= 1.6) or the legacy one (before 1.6: magic number, protocol 1001,
 * system info, the pickle with v1 `_rebuild_tensor` and 6-element storage ids, the sorted storage
 * keys, then each storage as an int64 element count and its bytes), as torchvision's 2017
 * vgg16-397923af.pth is. Pickle protocol 2, as torch.save uses.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { Tensor } from '../../src/core/tensor';

const STORAGE_CLASS: Record<string, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** One tensor of a state dict: a view of a storage (shared storages model tied weights). */
export interface SavedTensor {
  storage: string;
  offset?: number;
  shape: number[];
  stride?: number[];
}

/** A storage: its raw little-endian bytes and dtype. */
export interface SavedStorage {
  dtype: string;
  data: Buffer;
}

function contiguousStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Raw bytes of a tensor. */
export function tensorBytes(t: Tensor): Buffer {
  const d = t.dataSync() as ArrayBufferView;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/** Storages and views for plain tensors: one storage each, keys "0", "1", ... (or `key(i)`). */
export function fromTensors(tensors: Record<string, Tensor>, key: (i: number) => string = String): { entries: Array<[string, SavedTensor]>; storages: Map<string, SavedStorage> } {
  const storages = new Map<string, SavedStorage>();
  const entries: Array<[string, SavedTensor]> = [];
  Object.entries(tensors).forEach(([name, t], i) => {
    storages.set(key(i), { dtype: t.dtype, data: tensorBytes(t) });
    entries.push([name, { storage: key(i), shape: t.shape }]);
  });
  return { entries, storages };
}

class Pickler {
  private readonly parts: Buffer[] = [Buffer.from([0x80, 0x02])];
  private memo = 0;
  private readonly globals = new Map<string, number>();

  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  put(): this {
    const m = this.memo++;
    if (m < 256) return this.op(0x71, m); // BINPUT
    const b = Buffer.alloc(4);
    b.writeUInt32LE(m);
    this.parts.push(Buffer.from([0x72]), b); // LONG_BINPUT
    return this;
  }
  get(m: number): this {
    if (m < 256) return this.op(0x68, m); // BINGET
    const b = Buffer.alloc(4);
    b.writeUInt32LE(m);
    this.parts.push(Buffer.from([0x6a]), b); // LONG_BINGET
    return this;
  }
  global(module: string, name: string): this {
    const k = `${module}\n${name}`;
    const m = this.globals.get(k);
    if (m !== undefined) return this.get(m); // as Python reuses a memoized global
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    this.globals.set(k, this.memo);
    return this.put();
  }
  /** Python 2 writes str as bytes (SHORT_BINSTRING / BINSTRING), Python 3 as BINUNICODE. */
  py2 = false;
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (this.py2) {
      if (b.length < 256) this.parts.push(Buffer.from([0x55, b.length]), b);
      else {
        const l = Buffer.alloc(4);
        l.writeUInt32LE(b.length);
        this.parts.push(Buffer.from([0x54]), l, b);
      }
      return this.put();
    }
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), len, b);
    return this.put();
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.parts.push(Buffer.from([0x4a]), b);
    return this;
  }
  ints(xs: number[]): this {
    if (xs.length === 0) return this.op(0x29);
    if (xs.length <= 3) {
      for (const x of xs) this.int(x);
      return this.op(0x84 + xs.length).put();
    }
    this.op(0x28);
    for (const x of xs) this.int(x);
    return this.op(0x74).put();
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat([...this.parts, Buffer.from('.')]);
  }
}

/**
 * The pickle of an OrderedDict state dict with `_metadata`, as torch.save writes it under Python 3;
 * `py2`: as PyTorch 0.1-0.3 under Python 2 wrote it (byte strings, the OrderedDict built from a
 * list of [key, value] pairs, no `_metadata`).
 */
function statePickle(entries: Array<[string, SavedTensor]>, storages: Map<string, SavedStorage>, legacy: boolean, py2 = false): Buffer {
  const p = new Pickler();
  p.py2 = py2;
  p.global('collections', 'OrderedDict');
  if (py2) p.op(0x5d).put().op(0x28); // [ MARK
  else p.op(0x29, 0x52).put().op(0x28); // OrderedDict() MARK
  for (const [name, t] of entries) {
    if (py2) p.op(0x5d).put().op(0x28); // [ MARK key value APPENDS
    const st = storages.get(t.storage);
    if (!st) throw new Error(`no storage ${t.storage}`);
    const cls = STORAGE_CLASS[st.dtype];
    const itemSize = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 }[st.dtype] as number;
    p.str(name);
    p.global('torch._utils', legacy ? '_rebuild_tensor' : '_rebuild_tensor_v2');
    p.op(0x28); // MARK (the rebuild call's arguments)
    p.op(0x28).str('storage').global('torch', cls).str(t.storage).str('cpu').int(st.data.length / itemSize);
    if (legacy) p.op(0x4e); // view_metadata None
    p.op(0x74).put().op(0x51); // TUPLE, BINPERSID
    p.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? contiguousStride(t.shape));
    if (!legacy) p.op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).put(); // requires_grad False, hooks OrderedDict()
    p.op(0x74).put().op(0x52).put(); // TUPLE, REDUCE
    if (py2) p.op(0x65); // APPENDS: the [key, value] pair
  }
  if (py2) return p.op(0x65, 0x85).put().op(0x52).put().bytes(); // APPENDS, TUPLE1, REDUCE: OrderedDict(pairs)
  p.op(0x75); // SETITEMS
  // state: {'_metadata': OrderedDict([('', {'version': 1})])}, then BUILD
  p.op(0x7d).put().str('_metadata').global('collections', 'OrderedDict').op(0x29, 0x52).put();
  p.op(0x28).str('').op(0x7d).put().str('version').int(1).op(0x73).op(0x75); // MARK '' {version: 1} SETITEMS
  p.op(0x73).op(0x62); // SETITEM, BUILD
  return p.bytes();
}

/** A STORED zip (what PyTorchStreamReader reads; torch.save writes stored entries too). */
function zip(files: Array<[string, Buffer]>): Buffer {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x21, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt32LE(offset, 42);
    out.push(local, n, data);
    central.push(c, n);
    offset += local.length + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...out, cd, end]);
}

/** Writes Python's torch.save layout (zip container, PyTorch >= 1.6) of an OrderedDict state dict. */
export function writePythonTorchSave(path: string, entries: Array<[string, SavedTensor]>, storages: Map<string, SavedStorage>): void {
  const files: Array<[string, Buffer]> = [
    ['archive/data.pkl', statePickle(entries, storages, false)],
    ['archive/byteorder', Buffer.from('little')],
  ];
  for (const [k, s] of storages) files.push([`archive/data/${k}`, s.data]);
  files.push(['archive/version', Buffer.from('3\n')]);
  fs.writeFileSync(path, zip(files));
}

/** Writes the legacy (pre-1.6) torch.save layout of an OrderedDict state dict, v1 tensors; `py2`: as Python 2 pickled it. */
export function writeLegacyTorchSave(path: string, entries: Array<[string, SavedTensor]>, storages: Map<string, SavedStorage>, options: { py2?: boolean } = {}): void {
  const py2 = options.py2 ?? false;
  const pickler = (): Pickler => {
    const p = new Pickler();
    p.py2 = py2;
    return p;
  };
  const magic = pickler().op(0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).bytes();
  const version = pickler().int(1001).bytes();
  const sys = pickler().op(0x7d).put().op(0x28).str('protocol_version').int(1001).str('little_endian').op(0x88).op(0x75).bytes();
  const keys = [...storages.keys()].sort();
  const list = pickler().op(0x5d).put().op(0x28);
  for (const k of keys) list.str(k);
  const data: Buffer[] = [];
  for (const k of keys) {
    const s = storages.get(k) as SavedStorage;
    const itemSize = s.dtype === 'float64' || s.dtype === 'int64' ? 8 : s.dtype === 'float32' || s.dtype === 'int32' ? 4 : s.dtype === 'float16' || s.dtype === 'bfloat16' || s.dtype === 'int16' ? 2 : 1;
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(s.data.length / itemSize));
    data.push(count, s.data);
  }
  fs.writeFileSync(path, Buffer.concat([magic, version, sys, statePickle(entries, storages, true, py2), list.op(0x65).bytes(), ...data]));
}
