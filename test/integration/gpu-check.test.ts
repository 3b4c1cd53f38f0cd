/**
 * scripts/gpu-check.sh and scripts/gpu-node-check.sh on a machine without a usable GPU must fail
 * loudly (exit 2, a FAIL line, the log written to the output folder), never pass silently; so must
 * the Node check without its bundle. The GPU is faked away or faked present with a stub
 * `nvidia-smi` first on PATH, so the test does not depend on this machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'gpu-check.sh');
const NODE_SCRIPT = path.join(ROOT, 'scripts', 'gpu-node-check.sh');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs a check script with a stub nvidia-smi (its body given) first on PATH. */
function runWithStub(
  nvidiaSmi: string,
  python3?: string,
  o: { script?: string; log?: string; env?: NodeJS.ProcessEnv } = {},
): { status: number | null; out: string; log: string } {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\n${nvidiaSmi}\n`, { mode: 0o755 });
  if (python3 !== undefined) fs.writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\n${python3}\n`, { mode: 0o755 });
  const out = path.join(tmp, 'out');
  const r = spawnSync('bash', [o.script ?? SCRIPT, out], {
    encoding: 'utf8',
    env: { ...process.env, ...o.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    timeout: 60_000,
  });
  const logFile = path.join(out, o.log ?? 'gpu-check.log');
  return { status: r.status, out: r.stdout + r.stderr, log: fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '' };
}

describe('scripts/gpu-check.sh without a GPU', () => {
  it('stops with exit code 2 when nvidia-smi lists no GPU, and writes the reason to its log', () => {
    const r = runWithStub('echo "No devices were found" >&2; exit 6');
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/FAIL: no NVIDIA GPU visible/);
    expect(r.log).toMatch(/FAIL: no NVIDIA GPU visible/);
    expect(r.log).not.toMatch(/all steps passed/);
  });

  it("stops with exit code 2 when a GPU is listed but python3's PyTorch cannot use it", () => {
    const r = runWithStub('echo "GPU 0: Fake GPU (UUID: GPU-0)"; exit 0', 'exit 1');
    expect(r.status).toBe(2);
    expect(r.log).toMatch(/GPU 0: Fake GPU/);
    expect(r.log).toMatch(/FAIL: python3's PyTorch does not see the GPU/);
    expect(r.log).not.toMatch(/=== build/);
  });
});

describe('scripts/gpu-node-check.sh (the addon and CLI on CUDA) without a GPU or without its bundle', () => {
  const node = { script: NODE_SCRIPT, log: 'node-check.log' };

  it('stops with exit code 2 when nvidia-smi lists no GPU', () => {
    const r = runWithStub('echo "No devices were found" >&2; exit 6', undefined, node);
    expect(r.status).toBe(2);
    expect(r.log).toMatch(/FAIL: no NVIDIA GPU visible/);
    expect(r.log).not.toMatch(/all Node checks passed/);
  });

  it('stops with exit code 2 and says what to carry when the Node bundle is missing', () => {
    const libtorch = path.join(tmp, 'libtorch');
    fs.mkdirSync(path.join(libtorch, 'include'), { recursive: true });
    const r = runWithStub('echo "GPU 0: Fake GPU (UUID: GPU-0)"; exit 0', undefined, {
      ...node,
      env: { LIBTORCH: libtorch, DOC_ANON_DEVICE_NODE: path.join(tmp, 'no-bundle') },
    });
    expect(r.status).toBe(2);
    expect(r.log).toMatch(/FAIL: no Node bundle at .*no-bundle.*carry \.device-node and lib/);
    expect(r.log).not.toMatch(/=== unpack/);
  });
});
