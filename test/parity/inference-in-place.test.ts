/**
 * Inference runs the models' elementwise steps in place on fresh outputs (native/src/models/
 * inplace.h); under autograd they run out of place. The C++ harness checks, on the fixture VAE and
 * UNet, that both give the same bits and that the inference forward leaves its inputs untouched.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturesRoot } from '../helpers/fixtures';

const HARNESS = path.join(__dirname, '..', '..', 'build', 'docanon_harness');

it('inference (in place) equals the autograd forward bit for bit, inputs untouched (VAE encode/decode, UNet)', () => {
  if (!fs.existsSync(HARNESS)) throw new Error(`${HARNESS} is missing: run npm run build:native`);
  const out = execFileSync(HARNESS, ['--fixtures', fixturesRoot(), 'parity.vae', 'parity.unet'], { encoding: 'utf8', timeout: 300_000 });
  for (const part of ['vae decode', 'vae encode', 'unet']) {
    expect(out).toMatch(new RegExp(`ok +${part} inference forward \\(in place\\) equals the autograd forward bit for bit`));
    expect(out).toMatch(new RegExp(`ok +${part} inference forward leaves its inputs untouched`));
  }
  expect(out).toMatch(/\b2 passed, 0 failed/);
});
