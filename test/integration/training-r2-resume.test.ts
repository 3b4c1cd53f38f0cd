/**
 * Resume from R2 on a "fresh machine": a run checkpoints to an S3-protocol server on loopback, its
 * local folder is deleted, and `doc-anon train-unet --resume` pulls the latest checkpoint and
 * continues to the same weights as an uninterrupted run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/main';
import { ArtifactStore } from '../../src/storage';
import { checkpointsRoot, latestCheckpoint, listCheckpoints } from '../../src/training/checkpoint';
import { runCli } from '../helpers/cli';
import { tempDir, useTestR2, type TestS3 } from './storage-server';

let s3: TestS3;
useTestR2('train-cache', (s) => (s3 = s));

function config(storage: boolean, name = 'unet-local'): string {
  const cfg = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'unet.local.yaml'), 'utf8')) as Record<string, any>;
  cfg.train = { ...cfg.train, max_steps: 6, batch_size: 2 };
  cfg.checkpoint = { ...cfg.checkpoint, every: 3, keep_last: 2 };
  if (storage) cfg.storage = { uri: `r2://${s3.bucket}/checkpoints/${name}` };
  const file = path.join(tempDir('train-cfg'), storage ? `${name}.yaml` : 'local.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  return file;
}

const weights = (run: string): Buffer =>
  fs.readFileSync(path.join(latestCheckpoint(checkpointsRoot(run)) as string, 'unet', 'diffusion_pytorch_model.safetensors'));

test('a fresh machine resumes from the checkpoint in R2 and ends where an uninterrupted run ends', async () => {
  const straight = path.join(tempDir('train-a'), 'run');
  expect(await main(['train-unet', '--config', config(false), '--out', straight, '--max-steps', '6'])).toBe(0);

  const r2cfg = config(true);
  const first = path.join(tempDir('train-b'), 'run');
  expect(await main(['train-unet', '--config', r2cfg, '--out', first, '--max-steps', '3'])).toBe(0);
  fs.rmSync(first, { recursive: true, force: true }); // the machine is gone

  const fresh = path.join(tempDir('train-c'), 'run');
  expect(await main(['train-unet', '--config', r2cfg, '--out', fresh, '--max-steps', '6', '--resume'])).toBe(0);
  expect(path.basename(latestCheckpoint(checkpointsRoot(fresh)) as string)).toBe('step-00000006');
  expect(weights(fresh).equals(weights(straight))).toBe(true);
  // It really resumed: the fresh machine trained steps 4..6 only (a run from scratch would log 1..6).
  const steps = fs.readFileSync(path.join(fresh, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
  expect(steps).toEqual([4, 5, 6]);
});

const metricSteps = (dir: string): number[] =>
  fs.existsSync(path.join(dir, 'metrics.jsonl'))
    ? fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { step: number }).step)
    : [];

test('retries of a preempted job: an upload cut short, a retry after the last step, a local folder behind R2; fresh runs never clobber a run', async () => {
  const cfg = config(true, 'unet-retry');
  const prefix = 'checkpoints/unet-retry';
  const store = new ArtifactStore();
  try {
    const firstMachine = path.join(tempDir('retry-a'), 'run');
    expect((await runCli(['train-unet', '--config', cfg, '--out', firstMachine, '--max-steps', '3'])).code).toBe(0);
    // Preempted while pushing step 6: a claim and part of the files, never published.
    await store.remote.putBytes(s3.bucket, `${prefix}/step-00000006/.claims/00dead`, '{}');
    await store.remote.putBytes(s3.bucket, `${prefix}/step-00000006/unet/part.bin`, 'partial');

    // The retry (a new container) resumes from R2's step 3, clears the dead upload and publishes step 6.
    const retry = path.join(tempDir('retry-b'), 'run');
    const r1 = await runCli(['train-unet', '--config', cfg, '--out', retry, '--max-steps', '6', '--resume']);
    expect(r1).toMatchObject({ code: 0, stderr: '' });
    expect(r1.stdout).toMatch(/storage: removed unpublished uploads of an earlier attempt/);
    expect(metricSteps(retry)).toEqual([4, 5, 6]);
    expect(await store.latest(`r2://${s3.bucket}/${prefix}`)).toBe(`r2://${s3.bucket}/${prefix}/step-00000006`);
    expect(await store.remote.headSize(s3.bucket, `${prefix}/step-00000006/unet/part.bin`)).toBeUndefined();

    // Retried once more after the last step: nothing to train, nothing pushed twice, success.
    const again = path.join(tempDir('retry-c'), 'run');
    expect((await runCli(['train-unet', '--config', cfg, '--out', again, '--max-steps', '6', '--resume'])).code).toBe(0);
    expect(metricSteps(again)).toEqual([]);
    expect((await store.listVersions(`r2://${s3.bucket}/${prefix}`)).map((v) => v.version)).toEqual(['step-00000003', 'step-00000006']);

    // The first machine's folder (step 3) is behind R2 (step 6): --resume takes R2's.
    expect((await runCli(['train-unet', '--config', cfg, '--out', firstMachine, '--max-steps', '6', '--resume'])).code).toBe(0);
    expect(metricSteps(firstMachine)).toEqual([1, 2, 3]);
    expect(listCheckpoints(checkpointsRoot(firstMachine)).map((c) => c.step)).toEqual([3, 6]);

    // A writer that died between publishing step 6 and moving `latest` left the pointer on step 3:
    // the start is still the newest published step. A dry run reports it and downloads nothing.
    await store.setLatest(`r2://${s3.bucket}/${prefix}/step-00000003`);
    const planned = path.join(tempDir('retry-d'), 'run');
    const dry = await runCli(['train-unet', '--config', cfg, '--out', planned, '--resume', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).checks.start).toEqual({ from: 'r2', step: 6, remote: `r2://${s3.bucket}/${prefix}/step-00000006`, remoteStep: 6 });
    expect(fs.existsSync(planned)).toBe(false);

    // Without --resume, a run whose storage.uri or output folder holds checkpoints is refused.
    const clobber = await runCli(['train-unet', '--config', cfg, '--out', path.join(tempDir('retry-e'), 'run'), '--max-steps', '3']);
    expect(clobber.code).toBe(2);
    expect(clobber.stderr).toMatch(/ERR_CONFLICT: .*step-00000006 \(step 6\)\. Pass --resume/);
    const local = await runCli(['train-unet', '--config', config(false), '--out', firstMachine, '--max-steps', '3']);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/ERR_CONFLICT: .*step-00000006 \(step 6\)/);
  } finally {
    store.close();
  }
});

test('a local checkpoint ahead of R2 (its push failed) is uploaded when the run resumes; other folders under storage.uri are never touched', async () => {
  const cfg = config(true, 'unet-ahead');
  const prefix = 'checkpoints/unet-ahead';
  const store = new ArtifactStore();
  try {
    // Trained to step 3 without storage: as if every push had failed.
    const out = path.join(tempDir('ahead'), 'run');
    expect((await runCli(['train-unet', '--config', config(false), '--out', out, '--max-steps', '3'])).code).toBe(0);
    // Someone else's data in the same folder: a claimed, unpublished upload that is not a checkpoint.
    await store.remote.putBytes(s3.bucket, `${prefix}/other-artifact/.claims/00aa`, '{}');
    await store.remote.putBytes(s3.bucket, `${prefix}/other-artifact/data.bin`, 'keep me');
    const r = await runCli(['train-unet', '--config', cfg, '--out', out, '--max-steps', '3', '--resume']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/storage: uploading the resumed checkpoint, which R2 does not have/);
    expect(metricSteps(out)).toEqual([1, 2, 3]); // nothing retrained
    expect(await store.latest(`r2://${s3.bucket}/${prefix}`)).toBe(`r2://${s3.bucket}/${prefix}/step-00000003`);
    expect(await store.remote.headSize(s3.bucket, `${prefix}/other-artifact/data.bin`)).toBe(7);
  } finally {
    store.close();
  }
});

test('a run that fails (diverged) still uploads the checkpoints it wrote before failing', async () => {
  const cfg = YAML.parse(fs.readFileSync(config(true, 'vae-diverge'), 'utf8')) as Record<string, any>;
  const vae = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'vae.local.yaml'), 'utf8')) as Record<string, any>;
  vae.optimizer.lr = 1e30; // step 1 applies; its weights overflow, so every later gradient is NaN
  vae.lr_schedule = { kind: 'constant' };
  vae.train = { ...vae.train, max_steps: 50, batch_size: 2, max_consecutive_skips: 3 };
  vae.data = { ...vae.data, crop_size: 32 };
  vae.checkpoint = { every: 1, keep_last: 2 };
  vae.storage = cfg.storage;
  const file = path.join(tempDir('diverge-cfg'), 'vae.yaml');
  fs.writeFileSync(file, YAML.stringify(vae));
  const r = await runCli(['train-vae', '--config', file, '--out', path.join(tempDir('diverge'), 'run')]);
  expect(r.stderr).toMatch(/ERR_DIVERGED/);
  expect(r.code).toBe(2);
  const store = new ArtifactStore();
  try {
    expect(await store.latest(cfg.storage.uri)).toBe(`${cfg.storage.uri}/step-00000001`);
  } finally {
    store.close();
  }
});
