/**
 * Disposing a trainer while a step is queued or running: the step finishes or fails with
 * ERR_DISPOSED, the process lives on, later calls fail with ERR_DISPOSED. Run in a child process:
 * the defect this guards against was a segfault (a queued step used the freed trainer).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../src/core/package-paths';

const SCRIPT = `
const { AutoencoderKL } = require(${JSON.stringify(path.join(packageRoot, 'src/models/autoencoder-kl'))});
const { NativeTrainer } = require(${JSON.stringify(path.join(packageRoot, 'src/training/native-trainer'))});
const { Tensor } = require(${JSON.stringify(path.join(packageRoot, 'src/core/tensor'))});
const config = { in_channels: 3, out_channels: 3, latent_channels: 4, block_out_channels: [8, 8], down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'], up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'], layers_per_block: 1, norm_num_groups: 4 };
const outcome = (p) => p.then((r) => (Number.isFinite(r.terms.loss) ? "finished" : "bad loss " + r.terms.loss), (e) => e.code);
(async () => {
  const results = {};
  const vae = await AutoencoderKL.fromConfig(config, { seed: 1 });
  const x = Tensor.from(new Uint8Array(2 * 128 * 128 * 3).fill(128), [2, 128, 128, 3], 'uint8');
  const opts = { micro: [x], recon: 'l1', klWeight: 1e-6, lpipsWeight: 0, samplePosterior: true, lr: 1e-4, maxGradNorm: 1 };
  // queued: another model holds the one compute thread, so the step's native call waits behind it.
  const other = await AutoencoderKL.fromConfig(config, { seed: 2 });
  const big = Tensor.from(new Float32Array(3 * 192 * 192), [1, 3, 192, 192], 'float32');
  for (const [name, wait] of [['queued', null], ['issued', (r) => setImmediate(r)], ['running', (r) => setTimeout(r, 30)]]) {
    const trainer = await NativeTrainer.create(vae, { seed: 1 });
    const busy = name === 'queued' ? other.encode(big) : null;
    if (busy) await new Promise((r) => setTimeout(r, 20));
    const step = outcome(trainer.vaeStep(null, opts));
    if (wait) await new Promise(wait);
    else for (let i = 0; i < 5; i++) await Promise.resolve();
    trainer.dispose();
    if (busy) await busy;
    trainer.dispose();
    results[name] = await step;
    results[name + ' then'] = await outcome(trainer.vaeStep(null, opts));
  }
  process.stdout.write(JSON.stringify(results));
})().catch((e) => { console.error(e); process.exit(3); });
`;

describe('NativeTrainer.dispose during a step', () => {
  it('ends the step cleanly (finished or ERR_DISPOSED) and keeps the process alive', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-dispose-'));
    try {
      const file = path.join(dir, 'dispose.ts');
      fs.writeFileSync(file, SCRIPT);
      const r = spawnSync(process.execPath, ['-r', path.join(packageRoot, 'bench', 'register-ts.js'), file], { encoding: 'utf8', timeout: 120_000 });
      expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) }).toEqual({ status: 0, signal: null, stderr: '' });
      const results = JSON.parse(r.stdout) as Record<string, string>;
      expect(results.queued).toBe('ERR_DISPOSED');
      for (const name of ['queued', 'issued', 'running']) {
        if (name !== 'queued') expect(['finished', 'ERR_DISPOSED']).toContain(results[name]);
        expect(results[`${name} then`]).toBe('ERR_DISPOSED');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
