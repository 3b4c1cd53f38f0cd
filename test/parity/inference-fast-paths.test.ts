/**
 * Inference takes two shortcuts that must not change a bit of the result (checked by the C++
 * harness on the fixture models, run from here):
 *  - elementwise steps run in place on fresh outputs (native/src/models/inplace.h) where autograd
 *    runs them out of place: same bits, inputs untouched (VAE encode/decode, UNet);
 *  - the sampling loop computes the cross-attention keys/values of its fixed context once and
 *    reuses them at every later step: reused exactly (steps - 1) x layers times, same bits as
 *    recomputing them (inpainting loop at guidance 1 and 7.5).
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

it('inference (in place) equals the autograd forward bit for bit, inputs untouched (VAE encode/decode, UNet)', () => {
  const out = harness('parity.vae', 'parity.unet');
  for (const part of ['vae decode', 'vae encode', 'unet']) {
    expect(out).toMatch(new RegExp(`ok +${part} inference forward \\(in place\\) equals the autograd forward bit for bit`));
    expect(out).toMatch(new RegExp(`ok +${part} inference forward leaves its inputs untouched`));
  }
  expect(out).toMatch(/\b2 passed, 0 failed/);
});

it('the sampling loop reuses cross-attention keys/values at every step after the first, with the same bits', () => {
  const out = harness('parity.pipeline');
  for (const run of ['gs1', 'gs7_5']) {
    expect(out).toMatch(new RegExp(`ok +${run}\\.context K/V cache reused at every step after the first`));
    expect(out).toMatch(new RegExp(`ok +${run}\\.context K/V cache: the same bits as recomputing them every step`));
    expect(out).toMatch(new RegExp(`ok +${run}\\.context K/V cache off: no reuse`));
  }
  expect(out).toMatch(/\b1 passed, 0 failed/);
});
