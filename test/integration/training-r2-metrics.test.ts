/**
 * A run's metrics and samples reach R2 with its checkpoints (issue 21: a Modal run's history
 * outlives its container): a tiny VAE run with `eval` and storage.uri on an S3-protocol server on
 * loopback, then the pushed checkpoint pulled into an empty folder holds run/metrics.jsonl with the
 * evaluation, run/tensorboard/ events that read back, and the sample grid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/main';
import { ArtifactStore } from '../../src/storage';
import { readTensorBoardEvents } from '../../src/tracking/tensorboard';
import { tempDir, useTestR2, type TestS3 } from './storage-server';

let s3: TestS3;
useTestR2('train-metrics', (s) => (s3 = s));

test('metrics.jsonl, TensorBoard events and sample grids arrive in the store with the checkpoint, and the best checkpoint beside it', async () => {
  const cfg = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.local.yaml'), 'utf8')) as Record<string, any>;
  cfg.train = { ...cfg.train, max_steps: 2, batch_size: 1 };
  cfg.checkpoint = { every: 2, keep_last: 1, keep_best: 'psnr' };
  cfg.eval = { every: 2, limit: 2 };
  cfg.storage = { uri: `r2://${s3.bucket}/training/vae-metrics` };
  const file = path.join(tempDir('metrics-cfg'), 'vae.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  const out = path.join(tempDir('metrics-run'), 'run');
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await main(['train-vae', '--config', file, '--out', out])).toBe(0);
  } finally {
    write.mockRestore();
  }

  const pulled = tempDir('metrics-pulled');
  const store = new ArtifactStore();
  try {
    await store.pull(`r2://${s3.bucket}/training/vae-metrics/step-00000002`, pulled);
    // The best checkpoint goes up as the one version of `<storage.uri>-best`.
    expect((await store.listVersions(`r2://${s3.bucket}/training/vae-metrics-best`)).map((v) => v.version)).toEqual(['step-00000002']);
  } finally {
    store.close();
  }
  const run = path.join(pulled, 'run');
  const lines = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.filter((l) => l.group === 'eval').map((l) => l.step)).toEqual([2]);
  expect(lines.filter((l) => l.group === undefined).map((l) => l.step)).toEqual([1, 2]);
  const [events] = fs.readdirSync(path.join(run, 'tensorboard'));
  const tags = readTensorBoardEvents(path.join(run, 'tensorboard', events)).flatMap((e) => e.summary?.value.map((v) => v.tag) ?? []);
  expect(tags).toEqual(expect.arrayContaining(['train/loss', 'eval/psnr', 'eval/ssim', 'eval/samples']));
  expect(fs.existsSync(path.join(run, 'samples', 'step-00000002.png'))).toBe(true);
});
