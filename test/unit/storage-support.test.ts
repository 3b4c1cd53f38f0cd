/** Unit tests of the storage layer's support code: env config, retries, manifests, locks, part sizes. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BackgroundPusher,
  acquireLock,
  backoffDelay,
  choosePartSize,
  createR2Client,
  isTransientError,
  MIN_PART_SIZE,
  parseManifest,
  readR2Settings,
  withRetry,
} from '../../src/storage';
import { DocAnonError } from '../../src/core/errors';

describe('R2 settings from the environment', () => {
  test('R2 endpoint from the account id; virtual-hosted style', () => {
    const s = readR2Settings({ R2_ACCOUNT_ID: 'abc123', R2_ACCESS_KEY_ID: 'AKID', R2_SECRET_ACCESS_KEY: 'shh' });
    expect(s).toEqual({ endpoint: 'https://abc123.r2.cloudflarestorage.com', forcePathStyle: false, accessKeyId: 'AKID', secretAccessKey: 'shh' });
  });
  test('R2_ENDPOINT overrides it and turns on path style', () => {
    const s = readR2Settings({ R2_ENDPOINT: 'http://127.0.0.1:9000/', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' });
    expect(s.endpoint).toBe('http://127.0.0.1:9000');
    expect(s.forcePathStyle).toBe(true);
  });
  test('missing variables are named, secret values never printed', () => {
    let err: unknown;
    try {
      readR2Settings({ R2_SECRET_ACCESS_KEY: 'super-secret-value' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DocAnonError);
    expect(err).toMatchObject({ code: 'ERR_CONFIG' });
    const msg = (err as Error).message;
    expect(msg).toMatch(/R2_ACCOUNT_ID/);
    expect(msg).toMatch(/R2_ACCESS_KEY_ID/);
    expect(msg).not.toMatch(/R2_SECRET_ACCESS_KEY[^a-z]*(,|$)/); // it is set: not listed as missing
    expect(msg).not.toContain('super-secret-value');
  });
  test.each([
    [{ R2_ACCOUNT_ID: 'evil.com/x', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' }],
    [{ R2_ENDPOINT: 'ftp://x', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' }],
    [{ R2_ENDPOINT: 'http://user:pw@host', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' }],
    [{ R2_ENDPOINT: 'not a url', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' }],
  ])('malformed settings are ERR_CONFIG (%#)', (env) => {
    expect(() => readR2Settings(env)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });
  test('the client uses region auto and checksums only when required', async () => {
    const c = createR2Client({ env: { R2_ACCOUNT_ID: 'abc', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'b' } });
    expect(await c.config.region()).toBe('auto');
    expect(await c.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await c.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(c.config.forcePathStyle).toBe(false);
    c.destroy();
  });
});

describe('retries', () => {
  test('transient vs permanent', () => {
    expect(isTransientError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isTransientError({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientError({ name: 'X', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isTransientError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isTransientError({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isTransientError(new DocAnonError('ERR_CONFLICT', 'x'))).toBe(false);
    expect(isTransientError(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) }))).toBe(true);
  });
  test('backoff grows exponentially, is capped, and is jittered', () => {
    for (let i = 0; i < 200; i++) {
      expect(backoffDelay(1, 100, 1000)).toBeLessThan(100);
      expect(backoffDelay(3, 100, 1000)).toBeLessThan(400);
      expect(backoffDelay(10, 100, 1000)).toBeLessThan(1000);
    }
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(5, 100, 10000)));
    expect(samples.size).toBeGreaterThan(10);
  });
  test('withRetry retries transient errors up to the limit and stops at permanent ones', async () => {
    let n = 0;
    await expect(withRetry(async () => { n++; throw Object.assign(new Error('reset'), { code: 'ECONNRESET' }); }, { retries: 3, baseDelayMs: 1 })).rejects.toThrow('reset');
    expect(n).toBe(4);
    n = 0;
    await expect(withRetry(async () => { n++; throw new DocAnonError('ERR_INTEGRITY', 'bad'); }, { retries: 3, baseDelayMs: 1 })).rejects.toThrow('bad');
    expect(n).toBe(1);
    n = 0;
    const v = await withRetry(async () => { if (++n < 3) throw Object.assign(new Error('t'), { code: 'ETIMEDOUT' }); return 'ok'; }, { retries: 3, baseDelayMs: 1 });
    expect(v).toBe('ok');
    expect(n).toBe(3);
  });
});

test('part sizes are equal, at least 5 MiB, and keep files within 10000 parts', () => {
  expect(choosePartSize(1, 1)).toBe(MIN_PART_SIZE);
  expect(choosePartSize(100 * 1024 ** 2)).toBe(8 * 1024 ** 2);
  const huge = 200 * 1024 ** 3;
  const p = choosePartSize(huge);
  expect(Math.ceil(huge / p)).toBeLessThanOrEqual(10_000);
  expect(p % (1024 * 1024)).toBe(0);
});

describe('manifests', () => {
  const good = {
    schema: 'doc-anon-torch/artifact@1', name: 'n', version: 'v1', createdAt: '2025-01-01T00:00:00Z', writerId: 'w',
    files: [{ path: 'a/b.bin', size: 3, sha256: 'a'.repeat(64) }], totalSize: 3, provenance: { step: 3, extra: 'kept' },
  };
  test('valid manifests parse, unknown provenance keys are kept', () => {
    expect(parseManifest(JSON.stringify(good), 'x').provenance).toMatchObject({ step: 3, extra: 'kept' });
  });
  test.each([
    ['not json', '{'],
    ['traversal path', JSON.stringify({ ...good, files: [{ ...good.files[0], path: '../x' }] })],
    ['absolute path', JSON.stringify({ ...good, files: [{ ...good.files[0], path: '/etc/x' }] })],
    ['bad sha', JSON.stringify({ ...good, files: [{ ...good.files[0], sha256: 'xyz' }] })],
    ['negative size', JSON.stringify({ ...good, files: [{ ...good.files[0], size: -1 }] })],
    ['duplicate path', JSON.stringify({ ...good, files: [good.files[0], good.files[0]] })],
    ['wrong schema', JSON.stringify({ ...good, schema: 'other' })],
  ])('%s is ERR_INTEGRITY', (_label, text) => {
    expect(() => parseManifest(text, 'r2://b/x')).toThrow(expect.objectContaining({ code: 'ERR_INTEGRITY' }));
  });
});

describe('lock files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-lock-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exclusive: a second acquirer waits for release', async () => {
    const p = path.join(dir, 'a.lock');
    const l1 = await acquireLock(p);
    let second = false;
    const waiting = acquireLock(p, { pollMs: 10 }).then((l) => { second = true; return l; });
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBe(false);
    await l1.release();
    const l2 = await waiting;
    expect(second).toBe(true);
    await l2.release();
    expect(fs.existsSync(p)).toBe(false);
  });

  test('a lock left by a dead process on this host is broken', async () => {
    const p = path.join(dir, 'dead.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    fs.writeFileSync(p, JSON.stringify({ pid, host: os.hostname(), createdAt: new Date().toISOString() }));
    const l = await acquireLock(p, { pollMs: 10, timeoutMs: 2000 });
    expect(JSON.parse(fs.readFileSync(p, 'utf8')).pid).toBe(process.pid);
    await l.release();
  });

  test('a lock held by a live process is respected until it goes away', async () => {
    const p = path.join(dir, 'live.lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600)']);
    fs.writeFileSync(p, JSON.stringify({ pid: child.pid, host: os.hostname(), createdAt: new Date().toISOString() }));
    await expect(acquireLock(p, { pollMs: 20, timeoutMs: 200 })).rejects.toMatchObject({ code: 'ERR_IO' });
    await new Promise((r) => child.on('exit', r));
    const l = await acquireLock(p, { pollMs: 20, timeoutMs: 2000 });
    await l.release();
  });

  test('a lock not refreshed for staleMs is broken', async () => {
    const p = path.join(dir, 'old.lock');
    fs.writeFileSync(p, JSON.stringify({ pid: 1, host: 'another-host', createdAt: 'x' }));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(p, old, old);
    const l = await acquireLock(p, { pollMs: 10, timeoutMs: 2000, staleMs: 5000 });
    await l.release();
  });
});

describe('BackgroundPusher', () => {
  const result = (uri: string) => ({ uri, location: {} as never, manifest: {} as never, durationMs: 1 });

  test('retries transient failures with the same writer id, and runs pushes one at a time', async () => {
    const calls: { uri: string; writerId?: string }[] = [];
    let running = 0;
    let maxRunning = 0;
    let failuresLeft = 2;
    const pusher = new BackgroundPusher(async (_dir, uri, opts) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls.push({ uri, writerId: opts.writerId });
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (uri.endsWith('a') && failuresLeft-- > 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return result(uri);
    }, { retries: 3, baseDelayMs: 1 });
    const a = pusher.enqueue('/d', 'r2://b/x/a');
    const b = pusher.enqueue('/d', 'r2://b/x/b');
    expect(pusher.size).toBe(2);
    const done = await pusher.flush();
    expect(done.map((r) => r.uri)).toEqual(['r2://b/x/a', 'r2://b/x/b']);
    expect(a.state).toBe('done');
    expect(b.state).toBe('done');
    expect(maxRunning).toBe(1);
    const aCalls = calls.filter((c) => c.uri.endsWith('a'));
    expect(aCalls).toHaveLength(3);
    expect(new Set(aCalls.map((c) => c.writerId)).size).toBe(1);
    expect(calls[calls.length - 1].uri).toBe('r2://b/x/b'); // b waited for a
  });

  test('gives up after its retries and reports once through onError and flush', async () => {
    const reported: string[] = [];
    const pusher = new BackgroundPusher(async () => {
      throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
    }, { retries: 2, baseDelayMs: 1, onError: (_e, uri) => reported.push(uri) });
    const h = pusher.enqueue('/d', 'r2://b/x/v1');
    await expect(pusher.flush()).rejects.toThrow(/1 background push\(es\) failed \(r2:\/\/b\/x\/v1\)/);
    expect(h.state).toBe('failed');
    expect(reported).toEqual(['r2://b/x/v1']);
    await expect(pusher.flush()).resolves.toEqual([]);
  });
});
