import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocAnonError, SafetensorsFile, Tensor, readSafetensors, writeSafetensors } from '../../src';
import { fixture } from '../helpers/fixtures';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-st-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An independent reading of the format, to check what our writer produces. */
function parseHeader(buf: Buffer): { headerLen: number; header: Record<string, unknown> } {
  const headerLen = Number(buf.readBigUInt64LE(0));
  return { headerLen, header: JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown> };
}

function bytesOf(t: Tensor): Buffer {
  const a = t.dataSync() as unknown as ArrayBufferView;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('fixtures written by Python safetensors', () => {
  const files = ['vae/io.safetensors', 'unet/io.safetensors', 'scheduler/io.safetensors', 'glyph_encoder/io.safetensors', 'lpips/io.safetensors'];
  it.each(files)('%s round-trips bit-exactly through our reader and writer', async (rel) => {
    const src = fixture(rel);
    const raw = fs.readFileSync(src);
    const { headerLen, header } = parseHeader(raw);
    const { tensors, metadata } = await readSafetensors(src);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(Object.keys(tensors).sort()).toEqual(names.sort());
    // Every tensor equals the bytes at its offsets in the original file.
    for (const name of names) {
      const e = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      expect(tensors[name].shape).toEqual(e.shape);
      const orig = raw.subarray(8 + headerLen + e.data_offsets[0], 8 + headerLen + e.data_offsets[1]);
      expect(bytesOf(tensors[name]).equals(orig)).toBe(true);
    }
    const out = path.join(dir, path.basename(path.dirname(rel)) + '.safetensors');
    await writeSafetensors(out, tensors, { ...metadata, roundtrip: 'yes' });
    const written = fs.readFileSync(out);
    const parsed = parseHeader(written);
    expect((8 + parsed.headerLen) % 8).toBe(0);
    expect((parsed.header.__metadata__ as Record<string, string>).roundtrip).toBe('yes');
    for (const name of names) {
      const a = header[name] as { dtype: string; shape: number[] };
      const b = parsed.header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      expect(b.dtype).toBe(a.dtype);
      expect(b.shape).toEqual(a.shape);
      const data = written.subarray(8 + parsed.headerLen + b.data_offsets[0], 8 + parsed.headerLen + b.data_offsets[1]);
      expect(data.equals(bytesOf(tensors[name]))).toBe(true);
    }
    const again = await readSafetensors(out);
    expect(Object.keys(again.tensors).length).toBe(names.length);
  });

  it('loads one tensor lazily and reports entries', async () => {
    const f = await SafetensorsFile.open(fixture('unet', 'diffusion_pytorch_model.safetensors'));
    expect(f.keys()).toContain('conv_in.weight');
    const e = f.entry('conv_in.weight');
    expect(e?.shape.length).toBe(4);
    const t = await f.load('conv_in.weight');
    expect(t.shape).toEqual(e?.shape);
    f.close();
    expect(() => f.metadata()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });

  it('writes atomically: no temp file left, an existing file replaced whole', async () => {
    const out = path.join(dir, 'atomic.safetensors');
    await writeSafetensors(out, { a: Tensor.from(new Float32Array([1, 2]), [2]) });
    await writeSafetensors(out, { b: Tensor.from(new Int32Array([7]), [1]) });
    const { tensors } = await readSafetensors(out);
    expect(Object.keys(tensors)).toEqual(['b']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a write into a missing folder fails with ERR_IO', async () => {
    await expect(writeSafetensors(path.join(dir, 'no', 'such', 'x.safetensors'), { a: Tensor.zeros([1]) })).rejects.toMatchObject({ code: 'ERR_IO' });
  });
});

// Deterministic PRNG so a failing case can be reproduced.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeFile(headerObj: unknown, data: Buffer, rawHeader?: string, declaredLen?: bigint): Buffer {
  const h = Buffer.from(rawHeader ?? JSON.stringify(headerObj), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLen ?? BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

describe('fuzz: malformed files never crash the process', () => {
  const baseHeader = {
    __metadata__: { k: 'v' },
    a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    b: { dtype: 'I64', shape: [2], data_offsets: [24, 40] },
    c: { dtype: 'BF16', shape: [4], data_offsets: [40, 48] },
  };
  const baseData = Buffer.alloc(48, 7);
  const valid = makeFile(baseHeader, baseData);

  function mutate(r: () => number, i: number): Buffer {
    const pick = (n: number) => Math.floor(r() * n);
    const h = JSON.parse(JSON.stringify(baseHeader)) as Record<string, { dtype: string; shape: unknown[]; data_offsets: unknown[] }>;
    const names = ['a', 'b', 'c'];
    const n = names[pick(3)];
    switch (i % 12) {
      case 0: return valid.subarray(0, pick(valid.length)); // truncation
      case 1: { const b = Buffer.from(valid); for (let k = 0; k < 1 + pick(4); k++) b[pick(b.length)] ^= 1 << pick(8); return b; }
      case 2: return makeFile(h, baseData, undefined, BigInt(valid.length + pick(1 << 20))); // header length past end
      case 3: return makeFile(h, baseData, undefined, BigInt(2) ** BigInt(40 + pick(24))); // enormous header length
      case 4: h[n].shape = [pick(2) ? 2 ** 40 : -pick(5), 2 ** (20 + pick(30))]; return makeFile(h, baseData); // giant/negative shapes
      case 5: h[n].data_offsets = [pick(48), pick(48)]; return makeFile(h, baseData); // overlaps, begin > end
      case 6: { const s = JSON.stringify(h); return makeFile(null, baseData, s.slice(0, pick(s.length))); } // bad JSON
      case 7: h[n].dtype = ['F8', 'U64', 'Q4', '', 'f32', 'COMPLEX'][pick(6)]; return makeFile(h, baseData); // unknown dtypes
      case 8: h[n].data_offsets = [pick(1000) + 48, pick(1000) + 1100]; return makeFile(h, baseData); // past the data
      case 9: { const v = [null, 'x', 1.5, -1, [], {}, 1e400, '7'][pick(8)]; (h[n] as unknown as Record<string, unknown>)[['dtype', 'shape', 'data_offsets', 'extra'][pick(4)]] = v; return makeFile(h, baseData); }
      case 10: return makeFile(null, baseData, ['[]', '1', 'null', '"s"', '{"a":1}', '{"a":{}}', '{"__metadata__":{"k":1}}', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{}}'][pick(8)]);
      default: { h[n].shape = Array.from({ length: pick(20) }, () => pick(3)); return makeFile(h, baseData); }
    }
  }

  it('3000 mutated files each load correctly or fail with ERR_SAFETENSORS', async () => {
    const r = rng(20240601);
    const file = path.join(dir, 'fuzz.safetensors');
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      fs.writeFileSync(file, mutate(r, i));
      try {
        const { tensors } = await readSafetensors(file);
        for (const t of Object.values(t2(tensors))) t.dataSync();
        counts.ok++;
      } catch (e) {
        if (!(e instanceof DocAnonError) || e.code !== 'ERR_SAFETENSORS') {
          throw new Error(`case ${i}: unexpected ${(e as Error).name} ${(e as DocAnonError).code}: ${(e as Error).message}`);
        }
        counts.rejected++;
      }
    }
    expect(counts.rejected).toBeGreaterThan(2000);
    expect(counts.ok).toBeGreaterThan(0);
  });

  function t2(x: Record<string, Tensor>): Record<string, Tensor> {
    return x;
  }

  it('a missing file is ERR_IO, a directory too', async () => {
    await expect(SafetensorsFile.open(path.join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ERR_IO' });
    await expect(SafetensorsFile.open(dir)).rejects.toMatchObject({ code: 'ERR_IO' });
  });
});
