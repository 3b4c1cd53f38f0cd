/**
 * `doc-anon train-* --device` naming a GPU that cannot be used stops before any work with
 * ERR_DEVICE, a message that says why (a CPU-only build, a CUDA build with no GPU visible, or a GPU
 * index beyond those visible) and writes nothing to --out. Without a usable GPU `--device cuda` is
 * refused; with one, an index past the last GPU is. Both groups are registered on every machine;
 * the one that cannot apply here is skipped.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { info } from '../../src';
import { runCli } from '../helpers/cli';

const ROOT = path.join(__dirname, '..', '..');
const cuda = info().cuda;
const CMDS = ['train-vae', 'train-unet'];

/** Runs `cmd` on its local config with `device`; expects ERR_DEVICE matching `why` and an empty --out. */
async function expectRefused(cmd: string, device: string, why: RegExp): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'train-device-'));
  try {
    const config = path.join(ROOT, 'configs', 'training', cmd === 'train-vae' ? 'vae.local.yaml' : 'unet.local.yaml');
    const r = await runCli([cmd, '--config', config, '--device', device, '--max-steps', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_DEVICE/);
    expect(r.stderr).toMatch(why);
    expect(fs.readdirSync(out)).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

(cuda.available ? describe.skip : describe)('train --device cuda without a usable GPU', () => {
  it.each(CMDS)('%s exits 1 with ERR_DEVICE and names the cause', (cmd) =>
    expectRefused(cmd, 'cuda', cuda.builtWithCuda ? /built with CUDA, but no GPU is visible/ : /CPU-only libtorch; rebuild against a CUDA PyTorch/));
});

(cuda.available ? describe : describe.skip)('train --device cuda:N past the visible GPUs', () => {
  it.each(CMDS)('%s exits 1 with ERR_DEVICE and names the GPUs there are', (cmd) =>
    expectRefused(cmd, `cuda:${cuda.deviceCount}`, new RegExp(`no such GPU here \\(${cuda.deviceCount} visible`)));
});
