/**
 * Storage against a real S3-protocol server (s3rver on 127.0.0.1, started here): round trips,
 * multipart, listing, latest, retention, background pushes, resolveToLocalDir, unsafe keys.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArtifactStore, type ArtifactStoreOptions } from '../../src/storage';
import { bytes, makeFolder, removeTempDirs, setR2Env, startS3, tempDir, type TestS3 } from './storage-server';

const MiB = 1024 * 1024;
let s3: TestS3;
let restoreEnv: () => void;
const stores: ArtifactStore[] = [];

function newStore(extra: Partial<ArtifactStoreOptions> = {}): ArtifactStore {
  const s = new ArtifactStore({
    cache: { root: tempDir('cache') },
    retry: { retries: 2, baseDelayMs: 20, maxDelayMs: 100 },
    partSize: 5 * MiB,
    queueSize: 2,
    clientOptions: { maxAttempts: 1 },
    ...extra,
  });
  stores.push(s);
  return s;
}
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const uri = (k: string): string => `r2://${s3.bucket}/${k}`;

beforeAll(async () => {
  s3 = await startS3();
  restoreEnv = setR2Env(s3);
});
afterAll(async () => {
  for (const s of stores) s.close();
  await s3.dispose();
  restoreEnv();
  removeTempDirs();
});

test('push then pull round-trips every byte; the second pull is served from the cache', async () => {
  const files = { 'config.json': '{"a":1}', 'weights/model.safetensors': bytes(300_000, 1), 'empty.txt': '' };
  const src = makeFolder(files);
  const store = newStore();
  const r = await store.push(src, uri('rt/model/v1'), { config: { lr: 1e-4 }, provenance: { step: 7, metrics: { loss: 0.5 } } });
  expect(r.manifest.files.map((f) => f.path)).toEqual(['config.json', 'empty.txt', 'weights/model.safetensors']);
  expect(r.manifest.files.find((f) => f.path === 'weights/model.safetensors')!.sha256).toBe(sha(files['weights/model.safetensors']));
  expect(r.manifest.provenance.step).toBe(7);
  expect(r.manifest.provenance.configHash).toMatch(/^[0-9a-f]{64}$/);
  expect(r.manifest.totalSize).toBe(300_000 + 7);

  const dest = tempDir('pull');
  const p1 = await store.pull(uri('rt/model/v1'), dest);
  for (const [rel, content] of Object.entries(files)) {
    expect(fs.readFileSync(path.join(dest, rel)).equals(Buffer.from(content))).toBe(true);
  }
  expect(JSON.parse(fs.readFileSync(path.join(dest, 'manifest.json'), 'utf8')).version).toBe('v1');
  expect(p1.cacheHits).toBe(0);
  expect(p1.bytesDownloaded).toBe(300_007);

  const p2 = await store.pull(uri('rt/model/v1'), tempDir('pull'));
  expect(p2.cacheHits).toBe(3);
  expect(p2.bytesDownloaded).toBe(0);
  // Pushing a pulled folder works: its manifest.json is regenerated, not uploaded as a file.
  const again = await store.push(dest, uri('rt/model/v2'));
  expect(again.manifest.files.map((f) => f.path)).not.toContain('manifest.json');
});

test('a >= 12 MiB file goes up as a multipart upload of equal 5 MiB parts and comes back intact', async () => {
  const big = bytes(13 * MiB + 123, 2);
  const src = makeFolder({ 'big.bin': big });
  const store = newStore();
  const sent: string[] = [];
  const parts: number[] = [];
  const send = store.remote.client.send.bind(store.remote.client);
  jest.spyOn(store.remote.client, 'send').mockImplementation(((cmd: { constructor: { name: string }; input: { Body?: unknown } }, ...rest: unknown[]) => {
    sent.push(cmd.constructor.name);
    if (cmd.constructor.name === 'UploadPartCommand') parts.push((cmd.input.Body as Buffer | Uint8Array).length);
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
  }) as never);
  await store.push(src, uri('mp/model/v1'));
  expect(sent.filter((n) => n === 'CreateMultipartUploadCommand')).toHaveLength(1);
  expect(sent.filter((n) => n === 'CompleteMultipartUploadCommand')).toHaveLength(1);
  expect(parts.sort((a, b) => b - a)).toEqual([5 * MiB, 5 * MiB, 3 * MiB + 123]);
  jest.restoreAllMocks();

  const dest = tempDir('pull');
  await store.pull(uri('mp/model/v1'), dest);
  expect(sha(fs.readFileSync(path.join(dest, 'big.bin')))).toBe(sha(big));
});

test('listVersions shows only published versions; latest follows publishes; retention keeps N', async () => {
  const store = newStore();
  for (const v of ['v1', 'v2', 'v3']) {
    await store.push(makeFolder({ 'f.txt': `content ${v}` }), uri(`ret/ckpt/${v}`), { provenance: { step: Number(v.slice(1)) } });
    await new Promise((r) => setTimeout(r, 5)); // distinct createdAt
  }
  // An unpublished version (files, no manifest) is invisible.
  await store.remote.putBytes(s3.bucket, 'ret/ckpt/v9/f.txt', 'orphan');
  expect((await store.listVersions(uri('ret/ckpt'))).map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
  expect(await store.latest(uri('ret/ckpt'))).toBe(uri('ret/ckpt/v3'));
  expect((await store.resolve(uri('ret/ckpt'))).manifest.provenance.step).toBe(3);
  expect((await store.resolve(uri('ret/ckpt/latest'))).location.version).toBe('v3');
  await expect(store.resolve(uri('ret/ckpt/v9'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  await expect(store.setLatest(uri('ret/ckpt/v9'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });

  const deleted = await store.applyRetention(uri('ret/ckpt'), 2);
  expect(deleted).toEqual(['v1']);
  expect(await store.remote.listKeys(s3.bucket, 'ret/ckpt/v1/')).toEqual([]);
  expect((await store.listVersions(uri('ret/ckpt'))).map((v) => v.version)).toEqual(['v2', 'v3']);
  // The unpublished upload is not touched by retention (it may be in progress).
  expect(await store.remote.headSize(s3.bucket, 'ret/ckpt/v9/f.txt')).toBe(6);

  // keepLast on push; latest pointing at an older version is kept too.
  await store.setLatest(uri('ret/ckpt/v2'));
  await store.push(makeFolder({ 'f.txt': 'v4' }), uri('ret/ckpt/v4'), { keepLast: 1, setLatest: false });
  expect((await store.listVersions(uri('ret/ckpt'))).map((v) => v.version)).toEqual(['v2', 'v4']);
  expect(await store.latest(uri('ret/ckpt'))).toBe(uri('ret/ckpt/v2'));
});

test('pushInBackground uploads while the caller continues, reports failures, flush waits', async () => {
  const errors: string[] = [];
  const store = newStore({ background: { retries: 1, baseDelayMs: 10, onError: (e) => errors.push((e as { code: string }).code) } });
  const h1 = store.pushInBackground(makeFolder({ 'w.bin': bytes(1000, 3) }), uri('bg/run/step-1'), { provenance: { step: 1 } });
  const h2 = store.pushInBackground(makeFolder({ 'w.bin': bytes(1000, 4) }), uri('bg/run/step-2'), { provenance: { step: 2 } });
  expect(['queued', 'uploading']).toContain(h2.state);
  const results = await store.flushBackground();
  expect(results.map((r) => r.manifest.version)).toEqual(['step-1', 'step-2']);
  expect(h1.state).toBe('done');
  expect((await h2.flush()).uri).toBe(uri('bg/run/step-2'));
  expect(await store.latest(uri('bg/run'))).toBe(uri('bg/run/step-2'));

  // A permanent failure (the version exists) is not retried, and is reported.
  const bad = store.pushInBackground(makeFolder({ 'w.bin': 'x' }), uri('bg/run/step-2'));
  await expect(store.flushBackground()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
  expect(bad.state).toBe('failed');
  expect(errors).toEqual(['ERR_CONFLICT']);
  await expect(bad.flush()).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
  // The failure was reported once: the next flush is clean.
  await expect(store.flushBackground()).resolves.toEqual([]);
});

test('resolveToLocalDir materializes once inside the cache and reuses it', async () => {
  const store = newStore();
  await store.push(makeFolder({ 'unet/config.json': '{}', 'unet/w.bin': bytes(5000, 5) }), uri('pre/unet/v1'));
  const dir = await store.resolveToLocalDir(uri('pre/unet'));
  expect(dir.startsWith(store.cache.artifactsDir + path.sep)).toBe(true);
  expect(fs.readFileSync(path.join(dir, 'unet/w.bin')).equals(bytes(5000, 5))).toBe(true);
  // Hard links into the read-only blob store.
  const st = fs.statSync(path.join(dir, 'unet/w.bin'));
  expect(st.nlink).toBeGreaterThanOrEqual(2);
  expect(st.mode & 0o222).toBe(0);

  const get = jest.spyOn(store.cache, 'fetch');
  expect(await store.resolveToLocalDir(uri('pre/unet/v1'))).toBe(dir);
  expect(get).not.toHaveBeenCalled();
  get.mockRestore();

  // A fresh machine (new cache) gets the same content.
  const fresh = newStore();
  const dir2 = await fresh.resolveToLocalDir(uri('pre/unet/latest'));
  expect(dir2).not.toBe(dir);
  expect(fs.readFileSync(path.join(dir2, 'unet/config.json'), 'utf8')).toBe('{}');
});

test('unsafe keys and paths are rejected before anything is sent', async () => {
  const store = newStore();
  const src = makeFolder({ 'a.txt': 'a' });
  for (const bad of ['r2://test-bucket/../x/v1', 'r2://test-bucket/a/../v1', 'r2://test-bucket//a/v1', 'r2://test-bucket/a/v\u0000', 'r2://test-bucket/a\\b/v1', `r2://test-bucket/${'x'.repeat(1000)}/v1`]) {
    await expect(store.push(src, bad)).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
  }
  await expect(store.push(src, 'r2://test-bucket/a/latest')).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  await expect(store.push(src, 's3://test-bucket/a/v1')).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
  // A file name with a backslash cannot become a key.
  const weird = makeFolder({ 'ok.txt': 'x' });
  fs.writeFileSync(path.join(weird, 'a\\b.txt'), 'x');
  await expect(store.push(weird, uri('unsafe/art/v1'))).rejects.toMatchObject({ code: 'ERR_UNSAFE_KEY' });
  expect(await store.remote.listKeys(s3.bucket, 'unsafe/')).toEqual([]);

  // A hostile manifest naming ../ paths is refused: nothing is written outside the target.
  const evil = {
    schema: 'doc-anon-torch/artifact@1', name: 'art', version: 'v2', createdAt: new Date().toISOString(), writerId: 'abc',
    files: [{ path: '../escape.txt', size: 1, sha256: sha('x') }], totalSize: 1, provenance: {},
  };
  await store.remote.putBytes(s3.bucket, 'unsafe/art/v2/manifest.json', JSON.stringify(evil));
  const dest = tempDir('pull');
  await expect(store.pull(uri('unsafe/art/v2'), path.join(dest, 'inner'))).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  expect(fs.existsSync(path.join(dest, 'escape.txt'))).toBe(false);
});

test('bad credentials give ERR_STORAGE without the secret in the message', async () => {
  // s3rver checks the access key id (SigV4 signatures are not verified by it).
  const env = { R2_ENDPOINT: s3.endpoint, R2_ACCESS_KEY_ID: 'UNKNOWNKEY', R2_SECRET_ACCESS_KEY: 'wrong-secret-0123456789' };
  const store = newStore({ clientOptions: { env, maxAttempts: 1 } });
  let err: unknown;
  try {
    await store.push(makeFolder({ 'a.txt': 'a' }), uri('creds/art/v1'));
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: 'ERR_STORAGE' });
  expect((err as Error).message).toMatch(/HTTP 403/);
  expect((err as Error).message).not.toContain('wrong-secret-0123456789');
  expect(JSON.stringify(err)).not.toContain('wrong-secret-0123456789');
});
