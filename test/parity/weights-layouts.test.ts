/**
 * The weight layouts people have: a diffusers folder with fp16 variant weights, a sharded
 * checkpoint (`*.safetensors.index.json`), loaded into float32 or bfloat16; strict key checks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SafetensorsFile, Tensor, UNet2DConditionModel, readSafetensors, writeSafetensors } from '../../src';
import { maxAbsDiff } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';

let dir: string;
let input: { sample: Tensor; timesteps: Tensor; encoderHiddenStates: Tensor };
let reference: Tensor;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-layouts-'));
  const io = await SafetensorsFile.open(fixture('unet', 'io.safetensors'));
  input = { sample: await io.load('input.sample'), timesteps: await io.load('input.timesteps'), encoderHiddenStates: await io.load('input.encoder_hidden_states') };
  io.close();
  const unet = await UNet2DConditionModel.fromPretrained(fixture('unet'));
  reference = (await unet.forward(input)).sample;
  unet.dispose();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function folder(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  fs.copyFileSync(fixture('unet', 'config.json'), path.join(d, 'config.json'));
  return d;
}

test('fp16 variant weights load (variant "fp16" or found automatically) into float32', async () => {
  const d = folder('fp16');
  const { tensors } = await readSafetensors(fixture('unet', 'diffusion_pytorch_model.safetensors'));
  const half: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) half[k] = await t.to(undefined, 'float16');
  await writeSafetensors(path.join(d, 'diffusion_pytorch_model.fp16.safetensors'), half);
  for (const variant of ['fp16', undefined]) {
    const unet = await UNet2DConditionModel.fromPretrained(d, { variant });
    expect(unet.parameters()[0].dtype).toBe('float32');
    // fp16 weights: the output moves by rounding only.
    expect(maxAbsDiff((await unet.forward(input)).sample, reference)).toBeLessThan(2e-2);
    unet.dispose();
  }
  await expect(UNet2DConditionModel.fromPretrained(d, { variant: 'bf16' })).rejects.toMatchObject({ code: 'ERR_WEIGHTS' });
});

test('sharded checkpoints load strictly; a missing key is named', async () => {
  const d = folder('sharded');
  const { tensors } = await readSafetensors(fixture('unet', 'diffusion_pytorch_model.safetensors'));
  const names = Object.keys(tensors);
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < 2; i++) {
    const file = `diffusion_pytorch_model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(path.join(d, file), Object.fromEntries(shards[i].map((n) => [n, tensors[n]])));
    for (const n of shards[i]) weightMap[n] = file;
  }
  fs.writeFileSync(path.join(d, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const unet = await UNet2DConditionModel.fromPretrained(d);
  expect(maxAbsDiff((await unet.forward(input)).sample, reference)).toBe(0);
  unet.dispose();
  const bf = await UNet2DConditionModel.fromPretrained(d, { dtype: 'bfloat16' });
  expect(bf.parameters()[0].dtype).toBe('bfloat16');
  bf.dispose();

  // Drop one key from the second shard: ERR_WEIGHTS naming it.
  const victim = shards[1][0];
  const file2 = path.join(d, 'diffusion_pytorch_model-00002-of-00002.safetensors');
  await writeSafetensors(file2, Object.fromEntries(shards[1].slice(1).map((n) => [n, tensors[n]])));
  delete weightMap[victim];
  fs.writeFileSync(path.join(d, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  await expect(UNet2DConditionModel.fromPretrained(d)).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringContaining(victim) });
});

test('an unexpected extra key and a wrong shape are refused with the key named', async () => {
  const { tensors } = await readSafetensors(fixture('unet', 'diffusion_pytorch_model.safetensors'));
  const extra = folder('extra');
  await writeSafetensors(path.join(extra, 'diffusion_pytorch_model.safetensors'), { ...tensors, 'mystery.weight': Tensor.zeros([2]) });
  await expect(UNet2DConditionModel.fromPretrained(extra)).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringContaining('mystery.weight') });
  const shape = folder('shape');
  await writeSafetensors(path.join(shape, 'diffusion_pytorch_model.safetensors'), { ...tensors, 'conv_in.bias': Tensor.zeros([3]) });
  await expect(UNet2DConditionModel.fromPretrained(shape)).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringContaining('conv_in.bias') });
});
