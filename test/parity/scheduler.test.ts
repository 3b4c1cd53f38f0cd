/**
 * Schedulers vs diffusers (fixtures/scheduler): tables, timesteps/sigmas for every recorded N,
 * every trajectory step for epsilon and v-prediction, add_noise and get_velocity.
 */
import * as fs from 'node:fs';
import { NoiseScheduler, Tensor } from '../../src';
import { expectClose, toNumbers } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';
import { parityFixture } from '../helpers/parity';

interface SchedulersJson {
  configs: Record<string, Record<string, Record<string, unknown>>>;
  set_timesteps_N: number[];
  trajectory_steps: number;
  ddpm_step_generator_seed: number;
}

// Python's json writes -Infinity (DPM's lambda_min_clipped): JSON.parse needs it as null, which the
// native reader also reads as -inf for that field. Each config is also given to the native reader
// as raw text below.
const metaText = fs.readFileSync(fixture('scheduler', 'schedulers.json'), 'utf8');
const meta = JSON.parse(metaText.replace(/-Infinity/g, 'null')) as SchedulersJson;
const { T, has } = parityFixture('scheduler');

const cases: Array<[string, string]> = [];
for (const [sched, variants] of Object.entries(meta.configs)) for (const v of Object.keys(variants)) cases.push([sched, v]);

describe('scheduler parity with diffusers', () => {
  it('covers every scheduler and variant of the fixture', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)('%s (%s): tables, timesteps and sigmas', async (sched, variant) => {
    const s = NoiseScheduler.fromConfig(meta.configs[sched][variant], sched);
    const p = `${sched}.${variant}.`;
    if (has(`${p}betas`)) expectClose(`${p}betas`, s.betas(), await T(`${p}betas`), 0);
    if (has(`${p}alphas_cumprod`)) expectClose(`${p}alphas_cumprod`, s.alphasCumprod(), await T(`${p}alphas_cumprod`), 0);
    for (const n of meta.set_timesteps_N) {
      if (!has(`${p}timesteps.N${n}`)) continue;
      s.setTimesteps(n);
      const ref = await T(`${p}timesteps.N${n}`);
      const got = s.timesteps();
      expect(got.dtype).toBe(ref.dtype);
      expect(toNumbers(got)).toEqual(toNumbers(ref));
      if (has(`${p}sigmas.N${n}`)) expectClose(`${p}sigmas.N${n}`, s.sigmas(), await T(`${p}sigmas.N${n}`), 1e-6, 1e-6);
    }
  });

  it.each(cases)('%s (%s): trajectory', async (sched, variant) => {
    const p = `${sched}.${variant}.trajectory.`;
    const s = NoiseScheduler.fromConfig(meta.configs[sched][variant], sched);
    s.setTimesteps(meta.trajectory_steps);
    const ts = toNumbers(s.timesteps());
    expect(ts).toEqual(toNumbers(await T(`${p}timesteps`)));
    expect(s.initNoiseSigma).toBeCloseTo(toNumbers(await T(`${p}init_noise_sigma`))[0], 5);
    const xT = await T('input.x_T');
    const C = toNumbers(await T('input.C'));
    const xInit = await T(`${p}x_init`);
    let sample = Tensor.from(Float32Array.from(toNumbers(xT), (v) => Math.fround(v * s.initNoiseSigma)), xT.shape);
    expectClose(`${p}x_init`, sample, xInit, 1e-6, 1e-6);
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i];
      const input = s.scaleModelInput(sample, t);
      if (has(`${p}step${i}.model_input`)) expectClose(`${p}step${i}.model_input`, input, await T(`${p}step${i}.model_input`), 1e-5, 1e-6);
      // The fixture's fake model, computed from the stored model_output to stay bit-exact.
      const modelOut = await T(`${p}step${i}.model_output`);
      const mine = Float32Array.from(toNumbers(input), (v, k) => Math.fround(Math.fround(0.1 * v) + Math.fround(C[k] * Math.fround(t / 1000))));
      expectClose(`${p}step${i}.model_output (fake model)`, Tensor.from(mine, input.shape), modelOut, 1e-5, 1e-5);
      const noise = has(`${p}step${i}.variance_noise`) ? await T(`${p}step${i}.variance_noise`) : undefined;
      const r = s.step(modelOut, t, sample, { eta: 0, varianceNoise: noise });
      expectClose(`${p}step${i}.prev_sample`, r.prevSample, await T(`${p}step${i}.prev_sample`), 2e-5, 1e-5);
      if (has(`${p}step${i}.pred_original_sample`)) {
        expectClose(`${p}step${i}.pred_original_sample`, r.predOriginalSample as Tensor, await T(`${p}step${i}.pred_original_sample`), 2e-5, 1e-5);
      }
      sample = r.prevSample;
    }
    expectClose(`${p}final`, sample, await T(`${p}final`), 2e-5, 1e-5);
  });

  it.each(['ddim', 'ddpm', 'pndm', 'euler', 'dpmpp2m'])('%s: add_noise and get_velocity', async (sched) => {
    const p = `${sched}.eps.`;
    const s = NoiseScheduler.fromConfig(meta.configs[sched].eps, sched);
    let ts = await T('input.add_noise_timesteps');
    if (has(`${p}add_noise.timesteps`)) {
      s.setTimesteps(meta.trajectory_steps);
      ts = await T(`${p}add_noise.timesteps`);
    }
    expectClose(`${p}add_noise`, s.addNoise(await T('input.x0'), await T('input.noise'), ts), await T(`${p}add_noise`), 1e-6, 1e-6);
    if (has(`${p}get_velocity`)) {
      expectClose(`${p}get_velocity`, s.getVelocity(await T('input.x0'), await T('input.noise'), ts), await T(`${p}get_velocity`), 1e-6, 1e-6);
    }
  });

  it('reads Python literals (-Infinity) in a raw scheduler_config.json', () => {
    const raw = metaText.slice(metaText.indexOf('"dpmpp2m"'));
    expect(raw).toContain('-Infinity');
    const text = JSON.stringify(meta.configs.dpmpp2m.eps).replace('"lambda_min_clipped":null', '"lambda_min_clipped":-Infinity');
    expect(text).toContain('-Infinity');
    const s = NoiseScheduler.fromConfigText(text, 'dpmpp2m');
    s.setTimesteps(5);
    expect(s.className).toBe('DPMSolverMultistepScheduler');
    expect(() => NoiseScheduler.fromConfigText(text.replace('"num_train_timesteps":1000', '"num_train_timesteps":Infinity'), 'dpmpp2m')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });

  it('rejects unsupported configs with ERR_CONFIG', () => {
    expect(() => NoiseScheduler.fromConfig({ ...meta.configs.ddim.eps, beta_schedule: 'cubic' }, 'ddim')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(() => NoiseScheduler.fromConfig({ ...meta.configs.ddim.eps, prediction_type: 'x0' }, 'ddim')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(() => NoiseScheduler.fromConfig(meta.configs.ddim.eps, 'KarrasVeScheduler')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });
});
