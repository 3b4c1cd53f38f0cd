/** LPIPS v0.1 (VGG) vs the lpips package (fixtures/lpips): distances, per-layer terms, features, input gradient. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Lpips, Tensor } from '../../src';
import { expectClose, maxAbs, maxAbsDiff, toNumbers } from '../helpers/compare';
import { fixture } from '../helpers/fixtures';
import { parityFixture } from '../helpers/parity';

let dir: string;
/** The VGG backbone is stored gzipped: unpacked into a temp folder, removed with the model. */
async function loadLpips(fixtureDir: string): Promise<{ lpips: Lpips; dispose(): void }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-lpips-'));
  const backbone = path.join(dir, 'vgg16_features.safetensors');
  fs.writeFileSync(backbone, zlib.gunzipSync(fs.readFileSync(path.join(fixtureDir, 'model.safetensors.gz'))));
  const lpips = await Lpips.load(backbone, { heads: path.join(fixtureDir, 'weights', 'lpips_v0.1_vgg_lin.safetensors') });
  return { lpips, dispose: () => (lpips.dispose(), fs.rmSync(dir, { recursive: true, force: true })) };
}
const fx = parityFixture('lpips', loadLpips);
const { T } = fx;

/** Spatial mean over dims 2,3 of an (N, C, H, W) tensor, in JS. */
function spatialMean(t: Tensor): number[] {
  const [n, c, h, w] = t.shape;
  const v = t.dataSync<'float32'>();
  const out: number[] = [];
  for (let i = 0; i < n * c; i++) {
    let s = 0;
    for (let k = 0; k < h * w; k++) s += v[i * h * w + k];
    out.push(s / (h * w));
  }
  return out;
}

describe('LPIPS parity with the lpips package', () => {
  it('distances, per-layer terms and features', async () => {
    const r = await fx.model.lpips.forward(await T('in0'), await T('in1'), { keepFeatures: true });
    expectClose('dist', r.dist, await T('dist'), 1e-6, 1e-4);
    for (let k = 0; k < r.layers.length; k++) {
      expectClose(`res_l${k}`, r.layers[k], await T(`res_l${k}`), 1e-6, 1e-4);
      for (const [mine, ref] of [[r.feats0, 'feat0_mean'], [r.feats1, 'feat1_mean'], [r.diffs, 'diff_mean']] as const) {
        const refT = await T(`${ref}_l${k}`);
        const got = Tensor.from(Float32Array.from(spatialMean((mine as Tensor[])[k])), refT.shape);
        expect(maxAbsDiff(got, refT)).toBeLessThanOrEqual(1e-4 * maxAbs(refT) + 1e-9);
      }
    }
    // The bundled heads are the same real v0.1 weights as the fixture's.
    const bundled = fs.readFileSync(path.join(__dirname, '..', '..', 'assets', 'lpips', 'lpips_v0.1_vgg_lin.safetensors'));
    expect(bundled.equals(fs.readFileSync(fixture('lpips', 'weights', 'lpips_v0.1_vgg_lin.safetensors')))).toBe(true);
  });

  it('gradient with respect to the first input', async () => {
    const r = await fx.model.lpips.forward(await T('in0'), await T('in1'), { gradInput0: true });
    const ref = await T('grad_in0');
    const [n] = ref.shape;
    const per = ref.numel / n;
    const g = toNumbers(r.gradInput0 as Tensor);
    const e = toNumbers(ref);
    for (let i = 0; i < n; i++) {
      let m = 0;
      let d = 0;
      for (let k = i * per; k < (i + 1) * per; k++) {
        m = Math.max(m, Math.abs(e[k]));
        d = Math.max(d, Math.abs(g[k] - e[k]));
      }
      expect(d).toBeLessThanOrEqual(1e-3 * m);
    }
  });

  it('a missing backbone says the user must supply it', async () => {
    await expect(Lpips.load(path.join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'ERR_WEIGHTS', message: expect.stringMatching(/vgg16/i) });
  });

  it('rejects mismatched inputs', async () => {
    await expect(fx.model.lpips.forward(Tensor.zeros([1, 3, 32, 32]), Tensor.zeros([1, 3, 32, 16]))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
  });
});
