/**
 * GET / and its assets: the review page (built into lib/web by `npm run build`), served as static
 * files with no authentication (it holds no data: the document goes from the browser to the API
 * with the token the person types). A strict Content-Security-Policy keeps the page to this server.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../core/package-paths';

/** Where the built page is. */
export const REVIEW_PAGE_DIR = path.join(packageRoot, 'lib', 'web');

/** The page's files by URL path (a fixed list: no path from a request ever reaches the file system). */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/review.css': { file: 'review.css', type: 'text/css; charset=utf-8' },
  '/review.js': { file: 'review.js', type: 'text/javascript; charset=utf-8' },
  '/api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  '/pdf.js': { file: 'pdf.js', type: 'text/javascript; charset=utf-8' },
  '/vendor/pdf.min.mjs': { file: 'vendor/pdf.min.mjs', type: 'text/javascript; charset=utf-8' },
  '/vendor/pdf.worker.min.mjs': { file: 'vendor/pdf.worker.min.mjs', type: 'text/javascript; charset=utf-8' },
};

// pdf.js needs blob: for its worker fallback and wasm for some image codecs; nothing else leaves the origin.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; img-src 'self' blob: data:; connect-src 'self' blob:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function pageRoute(app: FastifyInstance, dir = REVIEW_PAGE_DIR): void {
  for (const [url, f] of Object.entries(FILES)) {
    app.get(url, async (_req, reply) => {
      let body: Buffer;
      try {
        body = fs.readFileSync(path.join(dir, f.file));
      } catch {
        reply.status(404).type('text/plain; charset=utf-8');
        return `the review page is not built here (${f.file} missing): run "npm run build:web"`;
      }
      reply.header('content-type', f.type);
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'no-cache');
      return body;
    });
  }
}
