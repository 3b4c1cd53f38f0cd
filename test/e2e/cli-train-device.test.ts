/**
 * `doc-anon train-* --device cuda` where no GPU can be used stops before any work with ERR_DEVICE,
 * a message that says which of the two cases it is (a CPU-only build, or a CUDA build with no GPU
 * visible) and what to do, and writes nothing to --out.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../src/native/loader';
import { runCli } from '../helpers/cli';

const ROOT = path.join(__dirname, '..', '..');
const cuda = native().info().cuda;
// On a machine with a usable GPU there is nothing to refuse.
const maybe = cuda.available ? (_name: string, _fn: () => void): void => undefined : describe;

maybe('train --device cuda without a usable GPU', () => {
  it.each(['train-vae', 'train-unet'])('%s exits non-zero with ERR_DEVICE and names the cause', async (cmd) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'train-device-'));
    try {
      const config = path.join(ROOT, 'configs', 'training', cmd === 'train-vae' ? 'vae.local.yaml' : 'unet.local.yaml');
      const r = await runCli([cmd, '--config', config, '--device', 'cuda', '--max-steps', '1', '--out', out]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/ERR_DEVICE/);
      expect(r.stderr).toMatch(cuda.builtWithCuda ? /built with CUDA, but no GPU is visible/ : /CPU-only libtorch; rebuild against a CUDA PyTorch/);
      expect(fs.readdirSync(out)).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
