/**
 * Resume from R2 on a "fresh machine": a run checkpoints to an S3-protocol server on loopback, its
 * local folder is deleted, and `doc-anon train-unet --resume` pulls the latest checkpoint and
 * continues to the same weights as an uninterrupted run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/main';
import { checkpointsRoot, latestCheckpoint } from '../../src/training/checkpoint';
import { removeTempDirs, setR2Env, startS3, tempDir, type TestS3 } from './storage-server';

let s3: TestS3;
let restoreEnv: () => void;
const savedCache = process.env.DOC_ANON_CACHE_DIR;

beforeAll(async () => {
  s3 = await startS3();
  restoreEnv = setR2Env(s3);
  process.env.DOC_ANON_CACHE_DIR = tempDir('train-cache');
});
afterAll(async () => {
  await s3.dispose();
  restoreEnv();
  if (savedCache === undefined) delete process.env.DOC_ANON_CACHE_DIR;
  else process.env.DOC_ANON_CACHE_DIR = savedCache;
  removeTempDirs();
});

function config(storage: boolean): string {
  const cfg = YAML.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'configs', 'training', 'unet.local.yaml'), 'utf8')) as Record<string, any>;
  cfg.train = { ...cfg.train, max_steps: 6, batch_size: 2 };
  cfg.checkpoint = { ...cfg.checkpoint, every: 3, keep_last: 2 };
  if (storage) cfg.storage = { uri: `r2://${s3.bucket}/checkpoints/unet-local` };
  const file = path.join(tempDir('train-cfg'), storage ? 'r2.yaml' : 'local.yaml');
  fs.writeFileSync(file, YAML.stringify(cfg));
  return file;
}

const weights = (run: string): Buffer =>
  fs.readFileSync(path.join(latestCheckpoint(checkpointsRoot(run)) as string, 'model', 'diffusion_pytorch_model.safetensors'));

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
