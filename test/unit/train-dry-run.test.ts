/** The dry run's findings (src/training/checks planFindings): every problem at once, each with its fix. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { formatFindings, planFindings } from '../../src/training/checks';
import { DocAnonError, ErrorCode } from '../../src/core/errors';
import { loadVaeTrainConfig, parseVaeTrainConfig } from '../../src/training/config';

const log = pino({ level: 'silent' });
const noGpu = { available: false, deviceCount: 0, builtWithCuda: false };
const shipped = () => loadVaeTrainConfig(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.yaml'));

it('reports every problem of the shipped GPU recipe on a bare CPU machine, not only the first', async () => {
  const cwd = process.cwd();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-dry-'));
  process.chdir(tmp); // the config's relative paths (weights/, data/) do not exist here
  try {
    const { findings, sources } = await planFindings({ cfg: shipped(), device: 'cuda', nproc: 1, worldSize: 1, cuda: noGpu, log, env: {} });
    expect(findings.map((f) => f.check)).toEqual(['r2', 'model.pretrained', 'lpips.backbone', 'data.dataset_dir', 'device']);
    expect(findings[0].problem).toMatch(/R2_ACCOUNT_ID.*R2_ACCESS_KEY_ID.*R2_SECRET_ACCESS_KEY/);
    expect(findings.find((f) => f.check === 'lpips.backbone')?.fix).toMatch(/docs\/lpips\.md/);
    expect(findings.find((f) => f.check === 'device')?.code).toBe(ErrorCode.DEVICE);
    for (const f of findings) expect(f.fix.length).toBeGreaterThan(10);
    expect(Object.keys(sources.missing)).toEqual(['model.pretrained', 'lpips.backbone', 'data.dataset_dir']);
    const text = formatFindings(findings);
    expect(text).toMatch(/^dry run: 5 problem\(s\):/);
    expect(text.match(/fix: /g)).toHaveLength(5);
  } finally {
    process.chdir(cwd);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it('checks r2:// sources and the bucket through the store: unpublished sources and an unreachable bucket', async () => {
  const cfg = parseVaeTrainConfig({
    kind: 'vae',
    model: { pretrained: 'r2://bucket/models/vae/latest' },
    loss: {},
    train: { max_steps: 1 },
    data: { source: 'dataset', dataset_dir: 'r2://bucket/datasets/docs/latest' },
    storage: { uri: 'r2://bucket/training/vae' },
  });
  const store = {
    resolve: async (uri: string) => {
      if (uri.includes('models')) return { location: {} as never, manifest: { name: 'vae', version: 'v1', files: [1, 2], totalSize: 10 } as never };
      throw new DocAnonError(ErrorCode.NOT_FOUND, `nothing at ${uri}`);
    },
    listVersions: async () => {
      throw new DocAnonError(ErrorCode.STORAGE, 'connect ECONNREFUSED');
    },
    close: () => undefined,
  };
  const env = { R2_ACCOUNT_ID: 'a', R2_ACCESS_KEY_ID: 'b', R2_SECRET_ACCESS_KEY: 'c' };
  const { findings, sources } = await planFindings({ cfg, device: 'cpu', nproc: 1, worldSize: 1, cuda: noGpu, log, env, makeStore: () => store as never });
  expect(sources.found['model.pretrained']).toMatch(/^r2 vae\/v1/);
  expect(findings.map((f) => [f.check, f.code])).toEqual([
    ['data.dataset_dir', ErrorCode.NOT_FOUND],
    ['storage.uri', ErrorCode.STORAGE],
  ]);
  expect(findings[1].problem).toMatch(/ECONNREFUSED/);
});

it('checks the held-out folder of the evaluations', async () => {
  const cfg = parseVaeTrainConfig({ kind: 'vae', model: { config: {} }, loss: {}, train: { max_steps: 1 }, data: { val_dir: '/nonexistent/held-out' }, eval: {} });
  const { findings } = await planFindings({ cfg, device: 'cpu', nproc: 1, worldSize: 1, cuda: noGpu, log, env: {} });
  expect(findings).toEqual([expect.objectContaining({ check: 'data.val_dir', problem: '/nonexistent/held-out does not exist', fix: expect.stringMatching(/val_fraction/) })]);
});

it('finds nothing wrong with the local recipe', async () => {
  const cfg = loadVaeTrainConfig(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.local.yaml'));
  const { findings } = await planFindings({ cfg, device: 'cpu', nproc: 1, worldSize: 1, cuda: noGpu, log, env: {} });
  expect(findings).toEqual([]);
  expect(formatFindings(findings)).toBe('dry run: no problems found\n');
});

it('doc-anon train-vae --dry-run of the shipped recipe without R2 variables lists every problem and exits 2', async () => {
  const { main } = await import('../../src/cli/main');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-dry-cli-'));
  const cwd = process.cwd();
  const saved = Object.fromEntries(['R2_ACCOUNT_ID', 'R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY', 'R2_ENDPOINT'].map((k) => [k, process.env[k]]));
  const out: string[] = [];
  const err: string[] = [];
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    for (const k of Object.keys(saved)) delete process.env[k];
    process.chdir(tmp);
    const cfg = path.join(__dirname, '..', '..', 'configs', 'training', 'vae.yaml');
    expect(await main(['train-vae', '--config', cfg, '--out', path.join(tmp, 'run'), '--device', 'cuda:99', '--dry-run'])).toBe(2);
  } finally {
    so.mockRestore();
    se.mockRestore();
    process.chdir(cwd);
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const plan = JSON.parse(out.join(''));
  expect(plan.checks.findings.map((f: { check: string }) => f.check)).toEqual(['r2', 'model.pretrained', 'lpips.backbone', 'data.dataset_dir', 'device']);
  expect(err.join('')).toMatch(/dry run: 5 problem\(s\):[\s\S]*R2_ACCESS_KEY_ID[\s\S]*fix: /);
});
