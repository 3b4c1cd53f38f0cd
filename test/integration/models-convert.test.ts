/**
 * Conversion without Python: the tests write their torch.save inputs with libtorch
 * (writeTorchStateDict, the zip container torch.save writes) from the fixture models, and in
 * Python's own layouts (OrderedDict with _metadata; the legacy pre-1.6 container of 2017's
 * vgg16-397923af.pth) with test/helpers/torch-save.ts, which libtorch cannot write; they convert
 * them and compare every kept tensor bit for bit. VGG16 -> the LPIPS backbone; a DiffUTE checkpoint
 * (accelerate's checkpoint-N/ with unet/ as .bin, a bare pytorch_model.bin) + a TrOCR
 * VisionEncoderDecoderModel folder -> a pipeline folder that DiffutePipeline.fromPretrained loads;
 * the strict errors (missing, unexpected, mis-shaped key) and the refusals are coded.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readSafetensors, writeSafetensors } from '../../src/core/safetensors';
import { Tensor } from '../../src/core/tensor';
import { convertVgg16 } from '../../src/models/convert';
import { DiffutePipeline, MODEL_INDEX } from '../../src/models/diffute-pipeline';
import { assemblePipeline, convertToPipeline } from '../../src/models/pipeline-assembly';
import { readTorchStateDict, writeTorchStateDict } from '../../src/models/torch-checkpoint';
import { runCli } from '../helpers/cli';
import { fixture } from '../helpers/fixtures';
import { fromTensors, tensorBytes, writeLegacyTorchSave, writePythonTorchSave, type SavedTensor } from '../helpers/torch-save';

let tmp: string;
let vggFeatures: Record<string, Tensor>;
let unet: Record<string, Tensor>;
let glyph: Record<string, Tensor>;
let vae: Record<string, Tensor>;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-convert-'));
  const backbone = path.join(tmp, 'fixture-vgg.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(fixture('lpips', 'model.safetensors.gz'))));
  vggFeatures = (await readSafetensors(backbone)).tensors;
  unet = (await readSafetensors(fixture('unet', 'diffusion_pytorch_model.safetensors'))).tensors;
  glyph = (await readSafetensors(fixture('glyph_encoder', 'model.safetensors'))).tensors;
  vae = (await readSafetensors(fixture('vae', 'diffusion_pytorch_model.safetensors'))).tensors;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The raw bytes of a tensor (bit-for-bit comparisons). */
function bytes(t: Tensor): Buffer {
  const d = t.dataSync() as ArrayBufferView;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

async function expectSameTensors(file: string, expected: Record<string, Tensor>): Promise<void> {
  const got = (await readSafetensors(file)).tensors;
  expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, t] of Object.entries(expected)) {
    expect({ k, shape: got[k].shape, dtype: got[k].dtype }).toEqual({ k, shape: t.shape, dtype: t.dtype });
    expect({ k, equal: bytes(got[k]).equals(bytes(t)) }).toEqual({ k, equal: true });
  }
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

describe('torch.save state dicts read by libtorch', () => {
  it('reads back what it wrote, bare and wrapped ({"state_dict": ...}), bit for bit', async () => {
    const t = { 'a.weight': Tensor.randn([3, 5], 1), 'b.bias': Tensor.from(new Uint16Array([1, 2, 3]), [3], 'bfloat16') };
    for (const wrapper of ['', 'state_dict', 'model']) {
      const f = path.join(tmp, `rt-${wrapper || 'bare'}.pth`);
      await writeTorchStateDict(f, t, { wrapper });
      expect(fs.readFileSync(f).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
      const sd = await readTorchStateDict(f);
      expect({ keys: [...sd.tensors.keys()], wrapper: sd.wrapper }).toEqual({ keys: ['a.weight', 'b.bias'], wrapper });
      expect(sd.tensors.get('b.bias')!.dtype).toBe('bfloat16');
      for (const [k, v] of Object.entries(t)) expect(bytes(sd.tensors.get(k)!).equals(bytes(v))).toBe(true);
    }
  });

  it('reads the files a real PyTorch wrote (test/fixtures/torch_save: 1.13.1, zip and legacy containers, bare and wrapped with optimizer state and other objects), every value exact', async () => {
    const expected = JSON.parse(fs.readFileSync(fixture('torch_save', 'expected.json'), 'utf8')).tensors as Record<string, { shape: number[]; dtype: string; values: number[] }>;
    const cases: Array<[string, string, string[]]> = [
      ['state_dict.zip.pt', '', []],
      ['state_dict.legacy.pt', '', []],
      ['wrapped.zip.pt', 'state_dict', []],
      ['wrapped.legacy.pt', 'model', []],
    ];
    for (const [file, wrapper] of cases) {
      const sd = await readTorchStateDict(fixture('torch_save', file));
      expect({ file, keys: [...sd.tensors.keys()], wrapper: sd.wrapper }).toEqual({ file, keys: Object.keys(expected), wrapper });
      for (const [k, e] of Object.entries(expected)) {
        const t = sd.tensors.get(k)!;
        const raw = t.dataSync() as ArrayLike<number | bigint>;
        const values = e.dtype === 'float16' || e.dtype === 'bfloat16' ? Array.from(new Int16Array((raw as Uint16Array).buffer, (raw as Uint16Array).byteOffset, raw.length)) : Array.from(raw, Number);
        expect({ file, k, shape: t.shape, dtype: t.dtype, values }).toEqual({ file, k, shape: e.shape, dtype: e.dtype, values: e.values });
      }
    }
  });

  it("reads Python's own torch.save(model.state_dict()) layout: an OrderedDict with _metadata, memoized globals, shared storages (tied weights), strided views, float16 and a 0-d int64", async () => {
    const w = Tensor.randn([4, 6], 11);
    const half = Tensor.from(new Uint16Array([0x3c00, 0xc000, 0x7bff]), [3], 'float16');
    const steps = Tensor.from(new BigInt64Array([123456789n]), [], 'int64');
    const storages = new Map([
      ['0', { dtype: 'float32', data: tensorBytes(w) }],
      ['1', { dtype: 'float16', data: tensorBytes(half) }],
      ['2', { dtype: 'int64', data: tensorBytes(steps) }],
    ]);
    const entries: Array<[string, SavedTensor]> = [
      ['enc.weight', { storage: '0', shape: [4, 6] }],
      ['dec.weight', { storage: '0', shape: [4, 6] }], // tied to enc.weight
      ['enc.weight_t', { storage: '0', shape: [6, 4], stride: [1, 6] }], // a transposed view
      ['enc.row2', { storage: '0', offset: 12, shape: [6] }],
      ['norm.bias', { storage: '1', shape: [3] }],
      ['bn.num_batches_tracked', { storage: '2', shape: [] }],
    ];
    const f = path.join(tmp, 'python-layout.bin');
    writePythonTorchSave(f, entries, storages);
    const sd = await readTorchStateDict(f);
    expect([...sd.tensors.keys()]).toEqual(entries.map(([k]) => k));
    expect(sd.wrapper).toBe('');
    expect(bytes(sd.tensors.get('enc.weight')!).equals(bytes(w))).toBe(true);
    expect(bytes(sd.tensors.get('dec.weight')!).equals(bytes(w))).toBe(true);
    const wv = w.dataSync() as Float32Array;
    const t = sd.tensors.get('enc.weight_t')!;
    expect(t.shape).toEqual([6, 4]);
    expect(Array.from(t.dataSync() as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => wv[(i % 4) * 6 + Math.floor(i / 4)]));
    expect(Array.from(sd.tensors.get('enc.row2')!.dataSync() as Float32Array)).toEqual(Array.from(wv.slice(12, 18)));
    expect(sd.tensors.get('norm.bias')!.dtype).toBe('float16');
    expect(bytes(sd.tensors.get('norm.bias')!).equals(bytes(half))).toBe(true);
    expect({ shape: sd.tensors.get('bn.num_batches_tracked')!.shape, v: (sd.tensors.get('bn.num_batches_tracked')!.dataSync() as BigInt64Array)[0] }).toEqual({ shape: [], v: 123456789n });
  });

  it('reads the legacy (pre-1.6) container, v1 tensors included; refuses a tar-format file and a non-checkpoint with ERR_UNSUPPORTED, a truncated one with ERR_WEIGHTS', async () => {
    const { entries, storages } = fromTensors({ 'a.weight': Tensor.randn([3, 5], 1), 'a.bias': Tensor.randn([3], 2) }, (i) => `9402${i}`);
    const legacy = path.join(tmp, 'legacy.pth');
    writeLegacyTorchSave(legacy, entries, storages);
    const sd = await readTorchStateDict(legacy);
    expect([...sd.tensors.keys()]).toEqual(['a.weight', 'a.bias']);
    expect(bytes(sd.tensors.get('a.weight')!).equals(storages.get('94020')!.data)).toBe(true);
    expect(bytes(sd.tensors.get('a.bias')!).equals(storages.get('94021')!.data)).toBe(true);

    const cut = path.join(tmp, 'legacy-cut.pth');
    fs.writeFileSync(cut, fs.readFileSync(legacy).subarray(0, fs.statSync(legacy).size - 5));
    const t = await failure(readTorchStateDict(cut));
    expect(t.code).toBe('ERR_WEIGHTS');
    expect(t.message).toMatch(/truncated/);

    const tar = path.join(tmp, 'old.tar.pth');
    const block = Buffer.alloc(1024);
    block.write('ustar', 257, 'latin1');
    fs.writeFileSync(tar, block);
    const r = await failure(readTorchStateDict(tar));
    expect(r.code).toBe('ERR_UNSUPPORTED');
    expect(r.message).toMatch(/tar-format[\s\S]*torch\.save\(torch\.load\(/);
    const junk = path.join(tmp, 'junk.bin');
    fs.writeFileSync(junk, 'not a checkpoint');
    expect((await failure(readTorchStateDict(junk))).code).toBe('ERR_UNSUPPORTED');
  });
});

describe('a damaged checkpoint', () => {
  it('never takes the process down: every corrupted or cut copy of a legacy file is read or refused with a coded error', async () => {
    const { entries, storages } = fromTensors({ 'a.weight': Tensor.randn([3, 5], 1), 'b.bias': Tensor.randn([4], 2), 'c.w': Tensor.randn([2, 2, 2], 3) });
    const good = path.join(tmp, 'fuzz-source.pth');
    writeLegacyTorchSave(good, entries, storages);
    const original = fs.readFileSync(good);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const codes = new Set<string>();
    const f = path.join(tmp, 'fuzz.pth');
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(original);
      if (i % 3 === 0) {
        fs.writeFileSync(f, b.subarray(0, 14 + rand(b.length - 14)));
      } else {
        for (let k = 0; k < 1 + rand(3); k++) b[14 + rand(b.length - 14)] = rand(256);
        fs.writeFileSync(f, b);
      }
      try {
        await readTorchStateDict(f);
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'none';
        codes.add(code);
        expect({ i, code }).toEqual({ i, code: expect.stringMatching(/^ERR_(WEIGHTS|UNSUPPORTED|OOM|TORCH)$/) });
      }
    }
    expect(codes.has('ERR_WEIGHTS')).toBe(true);
  });
});

describe('convertVgg16', () => {
  it('keeps every features.* tensor bit for bit under its own name, drops the classifier, and the result loads as the LPIPS backbone', async () => {
    // The legacy container with v1 tensors, pickled by Python 2 as in early 2017 (byte strings, the
    // OrderedDict built from [key, value] pairs): how torchvision's vgg16-397923af.pth may well be written.
    const pth = path.join(tmp, 'vgg16-397923af.pth');
    const classifier = { 'classifier.0.weight': Tensor.randn([8, 16], 3), 'classifier.0.bias': Tensor.randn([8], 4), 'classifier.6.weight': Tensor.randn([10, 8], 5) };
    const legacy = fromTensors({ ...vggFeatures, ...classifier }, (i) => `1407${String(i).padStart(4, '0')}`);
    writeLegacyTorchSave(pth, legacy.entries, legacy.storages, { py2: true });
    // and under Python 3 (with _metadata), as any pre-1.6 PyTorch on Python 3.
    const py3 = path.join(tmp, 'vgg16-py3-legacy.pth');
    writeLegacyTorchSave(py3, legacy.entries, legacy.storages);
    await convertVgg16(py3, path.join(tmp, 'vgg16-py3.safetensors'));
    await expectSameTensors(path.join(tmp, 'vgg16-py3.safetensors'), vggFeatures);
    const out = path.join(tmp, 'vgg16.safetensors');
    const report = await convertVgg16(pth, out);
    expect(report.components[0]).toMatchObject({ component: 'lpips_backbone', action: 'converted', format: 'torch', taken: 26, renamed: 0 });
    expect(report.components[0].left.sort()).toEqual(Object.keys(classifier).sort());
    await expectSameTensors(out, vggFeatures);

    // The same from libtorch's own writer (zip container), and through the CLI: the report on stdout.
    const zipped = path.join(tmp, 'vgg16.pth');
    await writeTorchStateDict(zipped, { ...vggFeatures, ...classifier });
    const z = path.join(tmp, 'vgg16-zip.safetensors');
    expect((await convertVgg16(zipped, z)).components[0].format).toBe('torch');
    await expectSameTensors(z, vggFeatures);
    const cliOut = path.join(tmp, 'vgg16-cli.safetensors');
    const r = await runCli(['models', 'convert', pth, '--out', cliOut]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).components[0]).toMatchObject({ taken: 26, left: expect.arrayContaining(['classifier.6.weight']) });
    await expectSameTensors(cliOut, vggFeatures);
    const junk = path.join(tmp, 'not-a-checkpoint.pth');
    fs.writeFileSync(junk, 'no pickle here');
    const bad = await runCli(['models', 'convert', junk, '--out', path.join(tmp, 'never-cli.safetensors')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ERR_UNSUPPORTED: .*not a torch\.save file/);
  });

  it('a missing or mis-shaped layer is ERR_WEIGHTS from the strict loader, and nothing is left at --out', async () => {
    const missing = { ...vggFeatures };
    delete missing['features.28.bias'];
    await writeTorchStateDict(path.join(tmp, 'vgg-missing.pth'), missing, { wrapper: 'state_dict' });
    const out = path.join(tmp, 'vgg-bad.safetensors');
    const r = await failure(convertVgg16(path.join(tmp, 'vgg-missing.pth'), out));
    expect(r).toMatchObject({ code: 'ERR_WEIGHTS' });
    expect(r.message).toMatch(/missing 1: .*features\.28\.bias/);
    expect(fs.existsSync(out)).toBe(false);

    await writeTorchStateDict(path.join(tmp, 'vgg-shape.pth'), { ...vggFeatures, 'features.0.bias': Tensor.randn([63], 1) });
    const s = await failure(convertVgg16(path.join(tmp, 'vgg-shape.pth'), out));
    expect(s.code).toBe('ERR_WEIGHTS');
    expect(s.message).toMatch(/wrong shape 1: features\.0\.bias/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

/** A TrOCR-style VisionEncoderDecoderModel folder around the fixture encoder (decoder tensors made up). */
async function trocrFolder(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const encoderConfig = JSON.parse(fs.readFileSync(fixture('glyph_encoder', 'config.json'), 'utf8'));
  delete encoderConfig.fixture;
  const config = { model_type: 'vision-encoder-decoder', architectures: ['VisionEncoderDecoderModel'], encoder: encoderConfig, decoder: { model_type: 'trocr', d_model: 8 } };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const weights: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(glyph)) weights[`encoder.${k}`] = t;
  weights['encoder.pooler.dense.weight'] = Tensor.randn([32, 32], 7);
  weights['decoder.model.decoder.embed_tokens.weight'] = Tensor.randn([11, 8], 8);
  weights['decoder.output_projection.weight'] = Tensor.randn([11, 8], 9);
  const { entries, storages } = fromTensors(weights);
  writePythonTorchSave(path.join(dir, 'pytorch_model.bin'), entries, storages);
  return dir;
}

/** DiffUTE's accelerate checkpoint: checkpoint-N/unet/diffusion_pytorch_model.bin + config.json (and optimizer state beside it). */
async function accelerateCheckpoint(name: string, tensors: Record<string, Tensor>): Promise<string> {
  const dir = path.join(tmp, name, 'checkpoint-100');
  fs.mkdirSync(path.join(dir, 'unet'), { recursive: true });
  fs.copyFileSync(fixture('unet', 'config.json'), path.join(dir, 'unet', 'config.json'));
  // accelerate writes torch.save(model.state_dict()): Python's layout, OrderedDict with _metadata.
  const { entries, storages } = fromTensors(tensors);
  writePythonTorchSave(path.join(dir, 'unet', 'diffusion_pytorch_model.bin'), entries, storages);
  fs.writeFileSync(path.join(dir, 'optimizer.bin'), 'opaque optimizer state, not read');
  return dir;
}

describe('convertToPipeline', () => {
  it("converts accelerate's checkpoint-N/ (UNet .bin) and a TrOCR folder (encoder kept) into a pipeline folder that loads; every tensor bit for bit; the report says what was taken and left", async () => {
    const ckpt = await accelerateCheckpoint('diffute-run', unet);
    const trocr = await trocrFolder('trocr');
    // An SD2-style VAE .bin with diffusers' deprecated attention names (query/key/value/proj_attn).
    const oldVae = path.join(tmp, 'vae-old');
    fs.mkdirSync(oldVae);
    fs.copyFileSync(fixture('vae', 'config.json'), path.join(oldVae, 'config.json'));
    const old: Record<string, Tensor> = {};
    const back: Record<string, string> = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
    for (const [k, t] of Object.entries(vae)) old[k.replace(/(attentions\.0\.)(to_q|to_k|to_v|to_out\.0)\./, (_m, a: string, b: string) => `${a}${back[b]}.`)] = t;
    await writeTorchStateDict(path.join(oldVae, 'diffusion_pytorch_model.bin'), old);

    const out = path.join(tmp, 'converted');
    const report = await convertToPipeline({ unet: ckpt, vae: oldVae, glyphEncoder: trocr, scheduler: fixture('pipeline', 'scheduler_config.json') }, out);
    const by = Object.fromEntries(report.components.map((c) => [c.component, c]));
    expect(by.unet).toMatchObject({ action: 'converted', format: 'torch', taken: Object.keys(unet).length, left: [], renamed: 0 });
    expect(by.vae).toMatchObject({ action: 'converted', taken: Object.keys(vae).length, renamed: 16 }); // 2 mid blocks x 4 projections x weight, bias
    expect(by.glyph_encoder).toMatchObject({ action: 'converted', taken: Object.keys(glyph).length });
    expect(by.glyph_encoder.left.sort()).toEqual(['decoder.model.decoder.embed_tokens.weight', 'decoder.output_projection.weight', 'encoder.pooler.dense.weight']);
    expect(by.scheduler).toMatchObject({ action: 'copied' });

    await expectSameTensors(path.join(out, 'unet', 'diffusion_pytorch_model.safetensors'), unet);
    await expectSameTensors(path.join(out, 'vae', 'diffusion_pytorch_model.safetensors'), vae);
    await expectSameTensors(path.join(out, 'glyph_encoder', 'model.safetensors'), glyph);
    const index = JSON.parse(fs.readFileSync(path.join(out, MODEL_INDEX), 'utf8'));
    expect(index).toMatchObject({ glyph_encoder: ['transformers', 'ViTModel'], scheduler: ['diffusers', 'DDIMScheduler'] });
    expect(index._sources).toBeUndefined();
    const p = await DiffutePipeline.fromPretrained(out);
    expect(p.glyphEncoder.sequenceLength).toBe(17);
    p.dispose();
  });

  it('a bare pytorch_model.bin of the UNet needs its config (ERR_CONFIG), and converts with it; a DDP module. prefix is stripped', async () => {
    const dir = path.join(tmp, 'bare');
    fs.mkdirSync(dir);
    const ddp: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(unet)) ddp[`module.${k}`] = t;
    await writeTorchStateDict(path.join(dir, 'pytorch_model.bin'), ddp);
    const trocr = await trocrFolder('trocr-bare');
    const noConfig = await failure(convertToPipeline({ unet: path.join(dir, 'pytorch_model.bin'), vae: fixture('vae'), glyphEncoder: trocr }, path.join(tmp, 'bare-out')));
    expect(noConfig.code).toBe('ERR_CONFIG');
    expect(noConfig.message).toMatch(/--unet-config/);
    const r = await convertToPipeline({ unet: path.join(dir, 'pytorch_model.bin'), unetConfig: fixture('unet', 'config.json'), vae: fixture('vae'), glyphEncoder: trocr }, path.join(tmp, 'bare-out'));
    expect(r.components.map((c) => [c.component, c.action])).toEqual([
      ['unet', 'converted'],
      ['vae', 'copied'],
      ['glyph_encoder', 'converted'],
      ['scheduler', 'default'],
    ]);
    await expectSameTensors(path.join(tmp, 'bare-out', 'unet', 'diffusion_pytorch_model.safetensors'), unet);
  });

  it('strict: a missing key, an unknown key and a wrong shape are ERR_WEIGHTS naming the component and the key; nothing is left at --out', async () => {
    const trocr = await trocrFolder('trocr-strict');
    const missing = { ...unet };
    delete missing['time_embedding.linear_1.weight'];
    const cases: Array<[string, Record<string, Tensor>, RegExp]> = [
      ['missing', missing, /^unet \(from .*diffusion_pytorch_model\.bin\): weights do not match the model; missing 1: time_embedding\.linear_1\.weight/],
      ['unknown', { ...unet, 'down_blocks.9.extra.weight': Tensor.randn([2], 1) }, /unexpected 1: down_blocks\.9\.extra\.weight/],
      ['shape', { ...unet, 'conv_in.bias': Tensor.randn([31], 1) }, /wrong shape 1: conv_in\.bias: checkpoint \[31\] vs model \[32\]/],
    ];
    for (const [name, tensors, message] of cases) {
      const ckpt = await accelerateCheckpoint(`strict-${name}`, tensors);
      const out = path.join(tmp, `strict-${name}-out`);
      const r = await failure(convertToPipeline({ unet: ckpt, vae: fixture('vae'), glyphEncoder: trocr }, out));
      expect({ name, code: r.code }).toEqual({ name, code: 'ERR_WEIGHTS' });
      expect(r.message).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith(`.strict-${name}-out.tmp-`))).toEqual([]);
    }
  });
});

describe('assemblePipeline', () => {
  it('copies parts in our layout, or names them in _sources with link; both load', async () => {
    const copied = path.join(tmp, 'assembled');
    const r = await assemblePipeline({ unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') }, copied);
    expect(r.components.map((c) => c.action)).toEqual(['copied', 'copied', 'copied', 'default']);
    expect(fs.readFileSync(path.join(copied, 'unet', 'diffusion_pytorch_model.safetensors')).equals(fs.readFileSync(fixture('unet', 'diffusion_pytorch_model.safetensors')))).toBe(true);
    (await DiffutePipeline.fromPretrained(copied)).dispose();

    const linked = path.join(tmp, 'linked');
    await assemblePipeline({ unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') }, linked, { link: true });
    const index = JSON.parse(fs.readFileSync(path.join(linked, MODEL_INDEX), 'utf8'));
    expect(index._sources).toEqual({ unet: path.resolve(fixture('unet')), vae: path.resolve(fixture('vae')), glyph_encoder: path.resolve(fixture('glyph_encoder')) });
    expect(fs.readdirSync(linked).sort()).toEqual([MODEL_INDEX, 'scheduler']);
    (await DiffutePipeline.fromPretrained(linked)).dispose();

    expect((await failure(assemblePipeline({ unet: fixture('unet'), vae: fixture('vae'), glyphEncoder: fixture('glyph_encoder') }, copied))).code).toBe('ERR_ARGUMENT');

    // SD2's VAE on the Hub keeps diffusers' deprecated attention names in its safetensors: renamed, not copied.
    const oldNames = path.join(tmp, 'vae-old-safetensors');
    fs.mkdirSync(oldNames);
    fs.copyFileSync(fixture('vae', 'config.json'), path.join(oldNames, 'config.json'));
    const renamed: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(vae)) renamed[k.replace(/attentions\.0\.to_q\./, 'attentions.0.query.').replace(/attentions\.0\.to_out\.0\./, 'attentions.0.proj_attn.')] = t;
    await writeSafetensors(path.join(oldNames, 'diffusion_pytorch_model.safetensors'), renamed);
    const fixed = path.join(tmp, 'assembled-old-vae');
    const rv = await assemblePipeline({ unet: fixture('unet'), vae: oldNames, glyphEncoder: fixture('glyph_encoder') }, fixed);
    expect(rv.components[1]).toMatchObject({ component: 'vae', action: 'converted', format: 'safetensors', renamed: 8 });
    await expectSameTensors(path.join(fixed, 'vae', 'diffusion_pytorch_model.safetensors'), vae);

    const viaCli = path.join(tmp, 'assembled-cli');
    const c = await runCli(['models', 'assemble', '--unet', fixture('unet'), '--vae', fixture('vae'), '--glyph-encoder', fixture('glyph_encoder'), '--scheduler', fixture('pipeline', 'scheduler_config.json'), '--out', viaCli]);
    expect({ code: c.code, err: c.stderr }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(c.stdout).out).toBe(viaCli);
    (await DiffutePipeline.fromPretrained(viaCli)).dispose();
  });
});
