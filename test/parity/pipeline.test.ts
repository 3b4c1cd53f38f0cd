/**
 * The native inpainting loop vs diffusers' StableDiffusionInpaintPipeline (fixtures/pipeline):
 * guidance 1.0 and 7.5, every intermediate the fixture records.
 */
import * as fs from 'node:fs';
import { AutoencoderKL, Tensor, UNet2DConditionModel, inpaintLoop } from '../../src';
import { expectClose, toNumbers } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';
import { fixtureJson, parityFixture } from '../helpers/parity';

interface PipelineJson {
  runs: Record<string, { guidance_scale: number; generator_seed: number; timesteps: number[] }>;
}

/** The pipeline's models: the vae/ and unet/ fixtures of the same root (its config.json says so). */
async function loadModels(): Promise<{ vae: AutoencoderKL; unet: UNet2DConditionModel; dispose(): void }> {
  const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
  const unet = await UNet2DConditionModel.fromPretrained(fixture('unet'));
  return { vae, unet, dispose: () => (vae.dispose(), unet.dispose()) };
}

const fx = parityFixture('pipeline', loadModels);
const { T } = fx;
const meta = fixtureJson<PipelineJson>('pipeline', 'config.json');
const schedulerText = fs.readFileSync(fixture('pipeline', 'scheduler_config.json'), 'utf8');

/** The loop's models, scheduler and the fixture's inputs; each test adds or overrides its own. */
async function loopInputs(): Promise<Parameters<typeof inpaintLoop>[0]> {
  return {
    unet: fx.model.unet,
    vae: fx.model.vae,
    schedulerConfig: schedulerText,
    image: await T('input.image'),
    mask: await T('input.mask_image'),
    encoderHiddenStates: await T('input.prompt_embeds'),
  };
}

describe('inpainting loop parity with diffusers', () => {
  it.each(Object.keys(meta.runs))('%s', async (run) => {
    const cfg = meta.runs[run];
    const progress: number[] = [];
    const out = await inpaintLoop({
      ...(await loopInputs()),
      negativeEncoderHiddenStates: await T('input.negative_prompt_embeds'),
      latents: await T('input.latents'),
      steps: cfg.timesteps.length,
      guidanceScale: cfg.guidance_scale,
      seed: cfg.generator_seed,
      maskedFill: 0, // diffusers' pipeline
      keepIntermediates: true,
      onProgress: (step) => progress.push(step),
    });
    const p = `${run}.`;
    expect(toNumbers(out.timesteps as Tensor)).toEqual(cfg.timesteps);
    expectClose('masked_image', out.maskedImage as Tensor, await T('prep.masked_image'), 1e-6);
    expectClose('mask_latent', out.maskLatent as Tensor, await T(`${p}mask_latent`), 0);
    expectClose('posterior_eps', out.posteriorEps as Tensor, await T(`${p}posterior_eps`), 0);
    expectClose('masked_image_latents', out.maskedImageLatents as Tensor, await T(`${p}masked_image_latents`), 1e-5, 1e-5);
    expect(out.steps.length).toBe(cfg.timesteps.length);
    for (let i = 0; i < out.steps.length; i++) {
      expectClose(`step${i}.unet_input`, out.steps[i].unetInput, await T(`${p}step${i}.unet_input`), 1e-5, 1e-5);
      expectClose(`step${i}.unet_output`, out.steps[i].unetOutput, await T(`${p}step${i}.unet_output`), 1e-5, 1e-5);
      expectClose(`step${i}.latents`, out.steps[i].latents, await T(`${p}step${i}.latents`), 1e-4, 1e-5);
    }
    // float64 spread of gs7_5.final_latents is 3.1e-5 (guidance amplifies rounding 7.5x)
    expectClose('final_latents', out.finalLatents, await T(`${p}final_latents`), 2e-4, 1e-5);
    expectClose('image_decoded', out.imageDecoded, await T(`${p}image_decoded`), 1e-4, 1e-5);
    expectClose('image', out.image, await T(`${p}image`), 1e-4);
    expect(progress).toEqual(cfg.timesteps.map((_, i) => i + 1));
  });

  it('stops at an AbortSignal between steps', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const p = inpaintLoop({
      ...(await loopInputs()),
      steps: 50,
      seed: 1,
      onProgress: (step) => {
        seen.push(step);
        if (step === 2) ac.abort();
      },
      signal: ac.signal,
    });
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(Math.max(...seen)).toBeLessThan(50);
  });

  it('is deterministic for a seed and DiffUTE fill differs from diffusers fill', async () => {
    const base = {
      ...(await loopInputs()),
      steps: 3,
      seed: 7,
    };
    const a = await inpaintLoop(base);
    const b = await inpaintLoop(base);
    const c = await inpaintLoop({ ...base, maskedFill: 0 });
    expect(toNumbers(a.finalLatents)).toEqual(toNumbers(b.finalLatents));
    expect(toNumbers(a.finalLatents)).not.toEqual(toNumbers(c.finalLatents));
  });

  it('rejects mismatched shapes with ERR_SHAPE', async () => {
    const image = Tensor.zeros([1, 3, 16, 16]);
    await expect(inpaintLoop({ ...(await loopInputs()), image, mask: Tensor.zeros([1, 1, 8, 8]), steps: 2 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(inpaintLoop({ ...(await loopInputs()), image, mask: Tensor.zeros([1, 1, 16, 16]), guidanceScale: 3, steps: 2 })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
