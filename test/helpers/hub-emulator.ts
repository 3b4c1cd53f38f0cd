/**
 * A local stand-in for the Hugging Face Hub, answering the endpoints `@huggingface/hub` uses for
 * a download, the way the Hub does:
 * - `GET /api/models/<repo>/revision/<rev>`: `{ id, sha, siblings }` (the commit a revision names);
 * - `GET /api/models/<repo>/tree/<rev>?recursive=true`: the file list, paginated with a `Link:
 *   <...>; rel="next"` header, LFS files with `lfs: { oid (sha256), size }`;
 * - `GET /<repo>/resolve/<rev>/<path>`: small files served directly (git ETag); LFS files
 *   answered with a 302 redirect to a CDN address on the same server (`/cdn/<sha256>`), whose
 *   answer carries the sha256 ETag, `Accept-Ranges` and honours `Range` (206 + Content-Range);
 * - 401 for a gated repository without its bearer token, 404 with `X-Error-Code` otherwise.
 * Faults for the tests: cut the connection after N bytes of a file's body (once), or serve a file
 * with one byte changed. Every request is logged (method, path, Range).
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file in a commit: its bytes; LFS when `lfs` (weights), else a plain git blob. */
export interface EmulatedFile {
  bytes: Buffer;
  lfs: boolean;
}

interface Repo {
  commits: Map<string, Map<string, EmulatedFile>>;
  refs: Map<string, string>;
  /** Bearer token a gated repository wants. */
  token?: string;
}

/** A logged request. */
export interface HubRequest {
  method: string;
  url: string;
  range?: string;
  auth: boolean;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export class HubEmulator {
  readonly requests: HubRequest[] = [];
  /** path -> bytes after which the next body transfer of that file is cut (once). */
  readonly cutAfter = new Map<string, number>();
  /** Paths served with one byte flipped. */
  readonly corrupt = new Set<string>();
  /** Tree entries per page (small, so pagination is exercised). */
  pageSize = 3;
  private readonly repos = new Map<string, Repo>();
  private readonly blobs = new Map<string, { file: EmulatedFile; path: string }>();
  private server?: http.Server;
  private commitCounter = 0;

  /** Base address, e.g. http://127.0.0.1:PORT (the HF_ENDPOINT to use). */
  get endpoint(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    if (!a) throw new Error('hub emulator not started');
    return `http://127.0.0.1:${a.port}`;
  }

  /**
   * Commits `files` (path -> bytes; `.safetensors`, `.bin`, `.ckpt` and `.pth` go to LFS) as the
   * new head of `main` (and of `ref` when given) of `repo`; returns the commit id.
   */
  commit(repo: string, files: Record<string, Buffer>, opts: { token?: string; ref?: string } = {}): string {
    let r = this.repos.get(repo);
    if (!r) {
      r = { commits: new Map(), refs: new Map() };
      this.repos.set(repo, r);
    }
    if (opts.token !== undefined) r.token = opts.token;
    const tree = new Map<string, EmulatedFile>();
    for (const [p, bytes] of Object.entries(files)) {
      const file = { bytes, lfs: /\.(safetensors|bin|ckpt|pth)$/.test(p) };
      tree.set(p, file);
      if (file.lfs) this.blobs.set(sha256(bytes), { file, path: p });
    }
    const id = createHash('sha1').update(`${repo}:${++this.commitCounter}:${[...tree.keys()].join(',')}`).digest('hex');
    r.commits.set(id, tree);
    r.refs.set('main', id);
    if (opts.ref) r.refs.set(opts.ref, id);
    return id;
  }

  /** Bytes of body served for LFS blobs so far (what a resumed or cached pull saves). */
  lfsBodyRequests(): HubRequest[] {
    return this.requests.filter((q) => q.url.startsWith('/cdn/') && q.method === 'GET' && q.range !== 'bytes=0-0');
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private resolveRev(r: Repo, rev: string): string | undefined {
    if (r.commits.has(rev)) return rev;
    return r.refs.get(rev);
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private notFound(res: http.ServerResponse, code: string): void {
    this.json(res, 404, { error: `${code}: not found` }, { 'X-Error-Code': code });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    this.requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, range: req.headers.range, auth: auth !== undefined });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    if (parts[0] === 'cdn' && parts.length === 2) {
      const blob = this.blobs.get(parts[1]!);
      if (!blob) return this.notFound(res, 'EntryNotFound');
      return this.serveBytes(req, res, blob.file, blob.path, { ETag: `"${parts[1]}"` });
    }

    const api = parts[0] === 'api' && parts[1] === 'models';
    const rest = api ? parts.slice(2) : parts;
    const repoId = `${rest[0]}/${rest[1]}`;
    const repo = this.repos.get(repoId);
    if (!repo) return this.notFound(res, 'RepoNotFound');
    if (repo.token !== undefined && auth !== `Bearer ${repo.token}`) {
      return this.json(res, 401, { error: 'Access to this repository is restricted. You must be authenticated.' }, { 'X-Error-Code': 'GatedRepo' });
    }
    const verb = rest[2];
    const rev = rest[3] ? this.resolveRev(repo, rest[3]) : undefined;
    if (!rev) return this.notFound(res, 'RevisionNotFound');
    const tree = repo.commits.get(rev)!;

    if (api && verb === 'revision') {
      return this.json(res, 200, { _id: `id-${repoId}`, id: repoId, sha: rev, private: false, gated: repo.token !== undefined ? 'manual' : false, siblings: [...tree.keys()].map((rfilename) => ({ rfilename })) });
    }
    if (api && verb === 'tree') {
      const prefix = rest.slice(4).join('/');
      const entries = [...tree.entries()]
        .filter(([p]) => !prefix || p.startsWith(`${prefix}/`))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([p, f]) => ({
          type: 'file',
          path: p,
          size: f.bytes.length,
          oid: gitSha(f.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.bytes)}\nsize ${f.bytes.length}\n`) : f.bytes),
          ...(f.lfs ? { lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: 130 } } : {}),
        }));
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + this.pageSize);
      const headers: Record<string, string> = {};
      if (cursor + this.pageSize < entries.length) {
        const next = new URL(url.pathname + url.search, this.endpoint);
        next.searchParams.set('cursor', String(cursor + this.pageSize));
        headers.Link = `<${next.href}>; rel="next"`;
      }
      return this.json(res, 200, page, headers);
    }
    if (!api && verb === 'resolve') {
      const filePath = rest.slice(4).join('/');
      const file = tree.get(filePath);
      if (!file) return this.notFound(res, 'EntryNotFound');
      if (file.lfs) {
        const oid = sha256(file.bytes);
        res.writeHead(302, { Location: `/cdn/${oid}`, 'X-Linked-ETag': `"${oid}"`, 'X-Linked-Size': String(file.bytes.length), 'X-Repo-Commit': rev });
        return void res.end();
      }
      return this.serveBytes(req, res, file, filePath, { ETag: `"${gitSha(file.bytes)}"`, 'X-Repo-Commit': rev });
    }
    return this.notFound(res, 'EntryNotFound');
  }

  private serveBytes(req: http.IncomingMessage, res: http.ServerResponse, file: EmulatedFile, filePath: string, headers: Record<string, string>): void {
    let body = file.bytes;
    if (this.corrupt.has(filePath)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const h: Record<string, string> = { ...headers, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
        return void res.end();
      }
      status = 206;
      h['Content-Range'] = `bytes ${start}-${end}/${body.length}`;
    }
    const slice = body.subarray(start, end + 1);
    h['Content-Length'] = String(slice.length);
    res.writeHead(status, h);
    if (req.method === 'HEAD') return void res.end();
    const cut = this.cutAfter.get(filePath);
    if (cut !== undefined && req.headers.range !== 'bytes=0-0' && slice.length > cut) {
      this.cutAfter.delete(filePath);
      res.write(slice.subarray(0, cut), () => {
        // Let the bytes reach the client, then drop the connection mid-body.
        setTimeout(() => req.socket.destroy(), 20);
      });
      return;
    }
    res.end(slice);
  }
}
