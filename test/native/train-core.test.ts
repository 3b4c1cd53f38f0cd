/**
 * The training core's own checks (C++ harness, native/tools/check_train.cc), run on the CPU:
 *  - the VAE loss convention: output-level gradients equal the documented formula, and the
 *    parameter-gradient ratio beta*KL / recon equals the latent-diffusion formula's;
 *  - AdamW equals libtorch's torch::optim::AdamW over steps with a changing lr; global-norm clipping;
 *  - k accumulated micro-batches equal one batch of k; optimizer state round-trips bit for bit;
 *  - real optimizer steps of the VAE and the DiffUTE UNet keep float32 master weights.
 * gpu-check.sh runs the same checks on CUDA.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturesRoot } from '../helpers/fixtures';

const HARNESS = path.join(__dirname, '..', '..', 'build', 'docanon_harness');

function harness(...checks: string[]): string {
  if (!fs.existsSync(HARNESS)) throw new Error(`${HARNESS} is missing: run npm run build:native`);
  return execFileSync(HARNESS, ['--fixtures', fixturesRoot(), ...checks], { encoding: 'utf8', timeout: 300_000 });
}

const CHECKS = ['train.vae_loss_convention', 'train.adamw_matches_libtorch', 'train.accumulation_and_state', 'train.device_steps'];

describe('training core (C++ harness on the CPU)', () => {
  let out = '';
  beforeAll(() => {
    out = harness(...CHECKS);
  });

  it('runs every training check and all of them pass', () => {
    for (const c of CHECKS) expect(out).toContain(`== ${c} (device cpu)`);
    expect(out).not.toMatch(/^\s*FAIL/m);
    expect(out).toMatch(/\b4 passed, 0 failed/);
  });

  it('pins the loss convention: KL/recon gradient ratio as the LDM formula predicts, batch-averaged terms', () => {
    expect(out).toMatch(/ok +grad ratio beta\*KL \/ recon equals the LDM formula's/);
    expect(out).toMatch(/ok +d beta\*KL \/ d mean = beta \* mean \/ B/);
    expect(out).toMatch(/ok +d beta\*KL \/ d logvar = beta \* \(var - 1\) \/ \(2B\)/);
    expect(out).toMatch(/ok +recon is batch-averaged/);
    expect(out).toMatch(/ok +KL is batch-averaged/);
  });

  it('accumulates micro-batches, clips, steps AdamW as libtorch does, and round-trips its state', () => {
    expect(out).toMatch(/ok +AdamW: 5 steps with a changing lr equal torch::optim::AdamW/);
    expect(out).toMatch(/ok +clip: clipped norm is 1/);
    for (const what of ['same reported loss', 'same grad norm', 'same weights after the step']) expect(out).toMatch(new RegExp(`ok +accumulation: ${what}`));
    expect(out).toMatch(/ok +resume: bit-identical weights after save\/load \+ one more step/);
  });
});
