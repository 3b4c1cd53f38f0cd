/**
 * Test helper: an S3-protocol server (s3rver, from npm) on 127.0.0.1 with a random free port and
 * a temp folder, started and stopped by the tests themselves. s3rver keeps objects on disk, so a
 * stopped server restarted on the same port and folder serves the same objects.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  httpServer?: http.Server;
}
// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;

/** A running (or stopped) test server. */
export interface TestS3 {
  readonly port: number;
  readonly endpoint: string;
  /** The folder s3rver stores objects in. */
  readonly dir: string;
  readonly bucket: string;
  /** Stops the server now, dropping in-flight connections (a crash, as clients see it). */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
  readonly running: boolean;
}

/** Starts s3rver on loopback with one bucket. */
export async function startS3(bucket = 'test-bucket'): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-s3-'));
  let port = 0;
  let server: S3rverInstance | undefined;
  const start = async (): Promise<void> => {
    const s = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
    const info = await s.run();
    port = info.port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closing = s.close();
    s.httpServer?.closeAllConnections();
    await closing;
  };
  await start();
  return {
    get port() {
      return port;
    },
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    dir,
    bucket,
    stop,
    restart: start,
    dispose: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    get running() {
      return server !== undefined;
    },
  };
}

/** Sets the R2_* variables for the test server; returns a function restoring the previous values. */
export function setR2Env(s3: TestS3): () => void {
  const keys = ['R2_ENDPOINT', 'R2_ACCOUNT_ID', 'R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY'] as const;
  const saved = keys.map((k) => [k, process.env[k]] as const);
  process.env.R2_ENDPOINT = s3.endpoint;
  delete process.env.R2_ACCOUNT_ID;
  // s3rver's built-in account.
  process.env.R2_ACCESS_KEY_ID = 'S3RVER';
  process.env.R2_SECRET_ACCESS_KEY = 'S3RVER';
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Deterministic pseudo-random bytes (fast; distinct per seed). */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (let i = n - (n % 4); i < n; i++) b[i] = (seed + i) & 0xff;
  return b;
}

const temps: string[] = [];

/** Removes every folder made by {@link makeFolder} and {@link tempDir} (call in afterAll). */
export function removeTempDirs(): void {
  for (const d of temps.splice(0)) {
    // Cached blobs are read-only files in writable folders: rm can remove them.
    fs.rmSync(d, { recursive: true, force: true });
  }
}

/** Writes `files` (relative path -> content) under a new temp folder and returns it. */
export function makeFolder(files: Record<string, Buffer | string>): string {
  const root = tempDir('art');
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

/** A new empty temp folder. */
export function tempDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `doc-anon-${tag}-`));
  temps.push(d);
  return d;
}

/**
 * For a test file that runs the CLI against R2: s3rver on loopback, the R2_* variables pointing at
 * it and a temp artifact cache (DOC_ANON_CACHE), set up before the file's tests and undone
 * after them. `ready` receives the server (for the file's own setup and assertions).
 */
export function useTestR2(cacheTag: string, ready: (s3: TestS3) => void): void {
  let s3: TestS3 | undefined;
  let restoreEnv: (() => void) | undefined;
  const savedCache = process.env.DOC_ANON_CACHE;
  beforeAll(async () => {
    s3 = await startS3();
    restoreEnv = setR2Env(s3);
    process.env.DOC_ANON_CACHE = tempDir(cacheTag);
    ready(s3);
  });
  afterAll(async () => {
    await s3?.dispose();
    restoreEnv?.();
    if (savedCache === undefined) delete process.env.DOC_ANON_CACHE;
    else process.env.DOC_ANON_CACHE = savedCache;
    removeTempDirs();
  });
}
