/**
 * Storage fault tests against s3rver on 127.0.0.1 (started here): the server stopped in the middle
 * of a multipart upload, objects corrupted on the server, two writers of one version, resumed and
 * interrupted downloads, cache eviction, concurrent fetches.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactStore, BlobCache, claimVersion, type ArtifactStoreOptions } from '../../src/storage';
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
    clientOptions: { maxAttempts: 1, connectionTimeoutMs: 2000, requestTimeoutMs: 10_000 },
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
afterEach(async () => {
  if (!s3.running) await s3.restart();
});

describe('server stopped in the middle of a multipart upload', () => {
  test('the push fails cleanly, nothing is published, readers never see it; the version can be cleaned and pushed again', async () => {
    const big = bytes(12 * MiB + 1, 10);
    const src = makeFolder({ 'a-small.txt': 'small', 'big.bin': big });
    let stopped = false;
    const store = newStore({
      onUploadProgress: (p) => {
        if (!stopped && p.key.endsWith('big.bin') && p.loaded >= 5 * MiB) {
          stopped = true;
          void s3.stop();
        }
      },
    });
    await expect(store.push(src, uri('crash/ckpt/v1'))).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    expect(stopped).toBe(true);

    await s3.restart();
    const reader = newStore();
    expect(await reader.remote.headSize(s3.bucket, 'crash/ckpt/v1/manifest.json')).toBeUndefined();
    expect(await reader.remote.headSize(s3.bucket, 'crash/ckpt/v1/big.bin')).toBeUndefined();
    expect(await reader.listVersions(uri('crash/ckpt'))).toEqual([]);
    expect(await reader.latest(uri('crash/ckpt'))).toBeUndefined();
    await expect(reader.resolve(uri('crash/ckpt/v1'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const dest = tempDir('pull');
    await expect(reader.pull(uri('crash/ckpt/v1'), dest)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(fs.readdirSync(dest)).toEqual([]);

    // The dead writer's claim (the server was gone when it tried to withdraw) blocks the version...
    await expect(newStore().push(src, uri('crash/ckpt/v1'), { claim: { waitMs: 300, pollMs: 50 } })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    // ...until its leftovers are abandoned.
    expect(await reader.abandonIncomplete(uri('crash/ckpt/v1'))).toBeGreaterThanOrEqual(1);
    const r = await newStore().push(src, uri('crash/ckpt/v1'));
    expect(r.manifest.files.find((f) => f.path === 'big.bin')!.sha256).toBe(sha(big));
    await expect(reader.abandonIncomplete(uri('crash/ckpt/v1'))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
  });

  test('the push completes after retries when the server comes back', async () => {
    const big = bytes(12 * MiB + 7, 11);
    const src = makeFolder({ 'big.bin': big });
    let stopped = false;
    const retries: number[] = [];
    const store = newStore({
      retry: { retries: 8, baseDelayMs: 100, maxDelayMs: 400, onRetry: (_e, n) => retries.push(n) },
      onUploadProgress: (p) => {
        if (!stopped && p.loaded >= 5 * MiB) {
          stopped = true;
          void s3.stop().then(() => setTimeout(() => void s3.restart(), 300));
        }
      },
    });
    const r = await store.push(src, uri('flaky/ckpt/v1'));
    expect(stopped).toBe(true);
    expect(retries.length).toBeGreaterThan(0);
    const dest = tempDir('pull');
    await newStore().pull(r.uri, dest);
    expect(sha(fs.readFileSync(path.join(dest, 'big.bin')))).toBe(sha(big));
  });
});

describe('corruption on the server', () => {
  test.each([
    ['same size, different bytes', (b: Buffer) => Buffer.concat([b.subarray(0, 100), Buffer.from([b[100] ^ 0xff]), b.subarray(101)])],
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 10)],
    ['extended', (b: Buffer) => Buffer.concat([b, Buffer.from('tail')])],
  ])('%s: detected by sha256, not cached, not placed', async (label, corrupt) => {
    const content = bytes(200_000, 12);
    const base = `corrupt/${label.replace(/[^a-z]+/g, '-')}`;
    const writer = newStore();
    await writer.push(makeFolder({ 'w.bin': content, 'ok.txt': 'fine' }), uri(`${base}/v1`));
    await writer.remote.putBytes(s3.bucket, `${base}/v1/w.bin`, corrupt(content));

    const reader = newStore();
    const dest = tempDir('pull');
    await expect(reader.pull(uri(`${base}/v1`), dest)).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    expect(fs.existsSync(reader.cache.blobPath(sha(content)))).toBe(false);
    expect(fs.readdirSync(reader.cache.tmpDir)).not.toContain(`${sha(content)}.part`);
    expect(fs.existsSync(path.join(dest, 'w.bin'))).toBe(false);
    await expect(reader.resolveToLocalDir(uri(`${base}/v1`))).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  });
});

describe('two writers of one version', () => {
  test('exactly one wins, the other gets ERR_CONFLICT, and the published files are all the winner\'s', async () => {
    // s3rver ignores If-None-Match (a second create-only PUT succeeds), so this exercises the
    // claim fallback rather than the server's conditional write.
    const probe = newStore();
    await probe.remote.putBytes(s3.bucket, 'race/probe', 'a', { createOnly: true });
    await probe.remote.putBytes(s3.bucket, 'race/probe', 'b', { createOnly: true });
    expect((await probe.remote.getBytes(s3.bucket, 'race/probe'))!.toString()).toBe('b');

    for (let round = 0; round < 3; round++) {
      const a = makeFolder({ 'w.bin': bytes(400_000, 100 + round), 'who.txt': 'A' });
      const b = makeFolder({ 'w.bin': bytes(400_000, 200 + round), 'who.txt': 'B' });
      const target = uri(`race/model/r${round}`);
      const results = await Promise.allSettled([newStore().push(a, target), newStore().push(b, target)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toMatchObject({ code: 'ERR_CONFLICT' });
      expect(String(lost[0].reason.message)).toMatch(/already exists|another writer/);

      const dest = tempDir('pull');
      await newStore().pull(target, dest);
      const who = fs.readFileSync(path.join(dest, 'who.txt'), 'utf8');
      expect(fs.readFileSync(path.join(dest, 'w.bin')).equals(bytes(400_000, (who === 'A' ? 100 : 200) + round))).toBe(true);
    }
    // A later writer of a published version gets ERR_CONFLICT at once.
    await expect(newStore().push(makeFolder({ 'x': 'x' }), uri('race/model/r0'))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
  });

  test('the claim protocol lets exactly one of five concurrent claimants win', async () => {
    const store = newStore();
    const ids = ['0a', '1b', '2c', '3d', '4e'].map((p) => p + Math.random().toString(16).slice(2, 10));
    const outcomes = await Promise.allSettled(
      ids.map((id) => claimVersion(store.remote, s3.bucket, 'claims/art/v1', id, uri('claims/art/v1'), { waitMs: 3000, pollMs: 20 })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'ERR_CONFLICT' });
    // Losers withdrew: only the winner's claim is left.
    expect(await store.remote.listKeys(s3.bucket, 'claims/art/v1/.claims/')).toHaveLength(1);
  });
});

describe('downloads and the cache', () => {
  const content = bytes(9 * MiB + 5, 20);
  const digest = sha(content);
  beforeAll(async () => {
    await newStore().push(makeFolder({ 'w.bin': content }), uri('dl/model/v1'));
  });
  const opener = (store: ArtifactStore, calls: number[]) => (start: number) => {
    calls.push(start);
    return store.remote.getStream(s3.bucket, 'dl/model/v1/w.bin', start);
  };

  test('a partial download is resumed with a Range request', async () => {
    const store = newStore();
    fs.mkdirSync(store.cache.tmpDir, { recursive: true });
    fs.writeFileSync(path.join(store.cache.tmpDir, `${digest}.part`), content.subarray(0, 6 * MiB));
    const calls: number[] = [];
    const r = await store.cache.fetch(digest, content.length, opener(store, calls));
    expect(calls).toEqual([6 * MiB]);
    expect(r).toMatchObject({ hit: false, resumedFrom: 6 * MiB, bytesDownloaded: content.length - 6 * MiB });
    expect(sha(fs.readFileSync(r.path))).toBe(digest);
  });

  test('a download cut mid-stream resumes from the bytes already on disk', async () => {
    const store = newStore();
    const calls: number[] = [];
    let cut = false;
    const r = await store.cache.fetch(digest, content.length, async (start) => {
      const rs = await opener(store, calls)(start);
      if (cut) return rs;
      cut = true;
      // Deliver ~3 MiB, then fail like a reset connection.
      let sent = 0;
      const src = rs.stream;
      const broken = new Readable({ read() {} });
      src.on('data', (c: Buffer) => {
        if (sent >= 3 * MiB) return;
        sent += c.length;
        broken.push(c);
        if (sent >= 3 * MiB) {
          src.destroy();
          broken.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        }
      });
      return { ...rs, stream: broken };
    });
    expect(calls.length).toBe(2);
    expect(calls[0]).toBe(0);
    // The second request starts where the partial file ends (bytes buffered at the cut are lost).
    expect(calls[1]).toBeGreaterThan(MiB);
    expect(calls[1]).toBeLessThanOrEqual(3 * MiB + 64 * 1024);
    expect(r.bytesDownloaded).toBeGreaterThanOrEqual(content.length);
    expect(sha(fs.readFileSync(r.path))).toBe(digest);
  });

  test('a partial file with wrong bytes fails verification, is discarded, and the next fetch succeeds', async () => {
    const store = newStore();
    fs.mkdirSync(store.cache.tmpDir, { recursive: true });
    const part = path.join(store.cache.tmpDir, `${digest}.part`);
    fs.writeFileSync(part, bytes(2 * MiB, 99));
    await expect(store.cache.fetch(digest, content.length, opener(store, []))).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    expect(fs.existsSync(part)).toBe(false);
    expect(fs.existsSync(store.cache.blobPath(digest))).toBe(false);
    const r = await store.cache.fetch(digest, content.length, opener(store, []));
    expect(r.resumedFrom).toBe(0);
    expect(sha(fs.readFileSync(r.path))).toBe(digest);
  });

  test('hits, misses and LRU eviction under a size bound', async () => {
    const blobs = [0, 1, 2].map((i) => bytes(1 * MiB, 30 + i));
    const writer = newStore();
    for (let i = 0; i < 3; i++) await writer.push(makeFolder({ 'b.bin': blobs[i] }), uri(`lru/a${i}/v1`));
    const cache = new BlobCache({ root: tempDir('cache'), maxBytes: 2.5 * MiB });
    const store = newStore({ cache });
    const fetch = (i: number) =>
      cache.fetch(sha(blobs[i]), MiB, (s) => store.remote.getStream(s3.bucket, `lru/a${i}/v1/b.bin`, s));
    expect((await fetch(0)).hit).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(1)).hit).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(0)).hit).toBe(true); // 0 is now more recent than 1
    await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(2)).hit).toBe(false); // over the bound: 1 (least recently used) goes
    expect(fs.existsSync(cache.blobPath(sha(blobs[1])))).toBe(false);
    expect(fs.existsSync(cache.blobPath(sha(blobs[0])))).toBe(true);
    expect(fs.existsSync(cache.blobPath(sha(blobs[2])))).toBe(true);
    expect(await cache.usage()).toBeLessThanOrEqual(2.5 * MiB);
    expect((await fetch(1)).hit).toBe(false); // evicted: a miss again
  });

  test('materialized folders count once with their blobs and are evicted as a unit', async () => {
    const cache = new BlobCache({ root: tempDir('cache'), maxBytes: 100 * MiB });
    const store = newStore({ cache });
    const dir = await store.resolveToLocalDir(uri('dl/model/v1'));
    // The folder's file is a hard link to the blob: the cache holds the bytes once.
    // (plus the small manifest.json and completion marker of the folder).
    const used = await cache.usage();
    expect(used).toBeGreaterThanOrEqual(content.length);
    expect(used).toBeLessThan(content.length + 16 * 1024);
    const r = await cache.evict(0);
    expect(r.removed.length).toBe(2);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await cache.usage()).toBe(0);
  });

  test('two fetchers of the same blob download it once', async () => {
    const root = tempDir('cache');
    const s1 = newStore({ cache: { root } });
    const s2 = newStore({ cache: { root } });
    const c1: number[] = [];
    const c2: number[] = [];
    const [r1, r2] = await Promise.all([
      s1.cache.fetch(digest, content.length, opener(s1, c1)),
      s2.cache.fetch(digest, content.length, opener(s2, c2)),
    ]);
    expect(c1.length + c2.length).toBe(1);
    expect([r1.hit, r2.hit].sort()).toEqual([false, true]);
    expect(r1.path).toBe(r2.path);
    expect(sha(fs.readFileSync(r1.path))).toBe(digest);
    expect(fs.readdirSync(path.join(root, 'locks'))).toEqual([]);
  });
});
