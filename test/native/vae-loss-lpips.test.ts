/**
 * The lambda * LPIPS term inside the VAE training loss itself (native train::vae_loss through the
 * trainer's step, whose reported terms are the forward before the update), against LPIPS computed
 * independently: the fixture VAE's reconstruction (AutoencoderKL.loss, the same objective without
 * LPIPS) scored by Lpips.forward (held to the lpips package by test/parity/lpips.test.ts).
 *   loss = recon + beta * KL + lambda * mean_b LPIPS(x_hat_b, x_b)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { AutoencoderKL, Lpips, NativeTrainer, Tensor } from '../../src';
import { u8HwcToSignedNchw } from '../../src/eval/metrics';
import { Rng } from '../../src/training/synthetic/random';
import { fixture } from '../helpers/fixtures';

const B = 2;
const S = 32;
const BETA = 1e-6;
const LAMBDA = 250;

let dir: string;
let lpips: Lpips;
let pixels: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-vae-lpips-'));
  const backbone = path.join(dir, 'vgg16_features.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(fixture('lpips', 'model.safetensors.gz'))));
  lpips = await Lpips.load(backbone);
  // Dark strokes on paper with some noise: a document-like crop.
  const rng = new Rng(7);
  pixels = Uint8Array.from({ length: B * S * S * 3 }, (_, i) => {
    const p = Math.floor(i / 3) % (S * S);
    const ink = (p % S) % 7 < 2 && Math.floor(p / S) % 9 < 6;
    return Math.max(0, Math.min(255, (ink ? 40 : 235) + rng.int(-12, 12)));
  });
});
afterAll(() => {
  lpips?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One step's reported terms on a fresh fixture VAE with lpipsWeight `lambda`. */
async function stepTerms(lambda: number): Promise<{ terms: Record<string, number>; gradNorm: number }> {
  const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
  vae.setRequiresGrad(true);
  const trainer = await NativeTrainer.create(vae, { seed: 0 });
  const x = Tensor.from(pixels, [B, S, S, 3], 'uint8');
  try {
    const r = await trainer.vaeStep(lambda > 0 ? lpips : null, {
      micro: [x],
      recon: 'l1',
      klWeight: BETA,
      lpipsWeight: lambda,
      samplePosterior: false,
      lr: 1e-4,
      maxGradNorm: 0,
    });
    return { terms: r.terms, gradNorm: r.gradNorm };
  } finally {
    x.dispose();
    trainer.dispose();
    vae.dispose();
  }
}

it('adds lambda times the batch-mean LPIPS of the reconstruction, as computed independently', async () => {
  // Independently: the reconstruction of the posterior mean, then LPIPS between it and the input.
  const vae = await AutoencoderKL.fromPretrained(fixture('vae'));
  const x = Tensor.from(u8HwcToSignedNchw(pixels, B, S, S), [B, 3, S, S]);
  let lpipsMean: number;
  let recon: number;
  let kl: number;
  try {
    const t = await vae.loss({ x, samplePosterior: false, klWeight: BETA, recon: 'l1' });
    const d = await lpips.forward(t.decoded, x);
    const dist = d.dist.dataSync<'float32'>();
    expect(dist).toHaveLength(B);
    lpipsMean = (dist[0] + dist[1]) / 2;
    recon = t.recon.dataSync<'float32'>()[0];
    kl = t.klMean.dataSync<'float32'>()[0];
    for (const v of [...Object.values(t), d.dist, ...d.layers]) v.dispose();
  } finally {
    x.dispose();
    vae.dispose();
  }
  expect(lpipsMean).toBeGreaterThan(1e-3); // a random VAE's reconstruction is far from the input

  const withLpips = await stepTerms(LAMBDA);
  const without = await stepTerms(0);
  // The term itself.
  expect(withLpips.terms.lpips).toBeCloseTo(lpipsMean, 5);
  expect(without.terms.lpips).toBe(0);
  // The same reconstruction and KL either way, and the same as the independent forward.
  expect(withLpips.terms.recon).toBeCloseTo(without.terms.recon, 2);
  expect(withLpips.terms.recon / recon).toBeCloseTo(1, 5);
  expect(withLpips.terms.kl / kl).toBeCloseTo(1, 5);
  // The loss is the sum with lambda on the LPIPS term: the difference of the two losses is lambda * LPIPS.
  const expected = recon + BETA * kl + LAMBDA * lpipsMean;
  expect(withLpips.terms.loss / expected).toBeCloseTo(1, 5);
  expect((withLpips.terms.loss - without.terms.loss) / (LAMBDA * lpipsMean)).toBeCloseTo(1, 3);
  // And it has a gradient: the step's gradient norm changes with it.
  expect(Math.abs(withLpips.gradNorm - without.gradNorm)).toBeGreaterThan(1e-3 * without.gradNorm);
});
