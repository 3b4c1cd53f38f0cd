/** `doc-anon artifacts push|ls|pull` against an S3-protocol server on loopback. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { makeFolder, removeTempDirs, setR2Env, startS3, tempDir, type TestS3 } from './storage-server';

let s3: TestS3;
let restoreEnv: () => void;
const saved = process.env.DOC_ANON_CACHE;

beforeAll(async () => {
  s3 = await startS3();
  restoreEnv = setR2Env(s3);
  process.env.DOC_ANON_CACHE = tempDir('cli-cache');
});
afterAll(async () => {
  await s3.dispose();
  restoreEnv();
  if (saved === undefined) delete process.env.DOC_ANON_CACHE;
  else process.env.DOC_ANON_CACHE = saved;
  removeTempDirs();
});

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(args), out };
  } finally {
    process.stdout.write = write;
  }
}

test('push, ls, pull round trip; a second push of the same version is refused', async () => {
  const src = makeFolder({ 'config.json': '{"block_out_channels":[32]}', 'diffusion_pytorch_model.safetensors': Buffer.alloc(4096, 7) });
  const uri = `r2://${s3.bucket}/models/tiny-unet/v1`;
  expect((await run(['artifacts', 'push', src, uri])).code).toBe(0);

  const names = await run(['artifacts', 'ls', `r2://${s3.bucket}/models`, '--json']);
  expect(JSON.parse(names.out)).toEqual(['tiny-unet']);
  const versions = await run(['artifacts', 'ls', `r2://${s3.bucket}/models/tiny-unet`, '--json']);
  expect((JSON.parse(versions.out) as Array<{ version: string; fileCount: number }>).map((v) => [v.version, v.fileCount])).toEqual([['v1', 2]]);

  const dst = path.join(tempDir('cli-pull'), 'out');
  expect((await run(['artifacts', 'pull', `r2://${s3.bucket}/models/tiny-unet/latest`, dst])).code).toBe(0);
  for (const f of ['config.json', 'diffusion_pytorch_model.safetensors']) {
    expect(fs.readFileSync(path.join(dst, f)).equals(fs.readFileSync(path.join(src, f)))).toBe(true);
  }

  expect((await run(['artifacts', 'push', src, uri])).code).not.toBe(0);
  expect((await run(['artifacts', 'push', src, `r2://${s3.bucket}/../escape/v1`])).code).toBe(2);
  expect((await run(['artifacts', 'frobnicate'])).code).toBe(2);
});

test('fromPretrained loads a model straight from an r2:// artifact (pulled into the verified cache)', async () => {
  const { AutoencoderKL } = await import('../../src');
  const { fixture } = await import('../helpers/fixtures');
  expect((await run(['artifacts', 'push', fixture('vae'), `r2://${s3.bucket}/models/tiny-vae/v1`])).code).toBe(0);
  const local = await AutoencoderKL.fromPretrained(fixture('vae'));
  const remote = await AutoencoderKL.fromPretrained(`r2://${s3.bucket}/models/tiny-vae/latest`);
  expect(remote.config.block_out_channels).toEqual(local.config.block_out_channels);
  expect(remote.parameterCount()).toBe(local.parameterCount());
  local.dispose();
  remote.dispose();
  await expect(AutoencoderKL.fromPretrained(`r2://${s3.bucket}/models/none/v1`)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
});
