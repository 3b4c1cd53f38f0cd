/**
 * How the page talks to doc-anon: over HTTP to the server that served it (or the one `?api=URL`
 * names), or, in an Electron app, through a bridge its preload script puts on `window.docAnon`
 * (same two calls; the app runs the library in its main process). Nothing is stored anywhere: the
 * document goes to the server for one request and comes back in its answer.
 */

/** One region of a regions document (see src/inference/regions-document.ts). */
export interface DocRegion {
  box: [number, number, number, number];
  entity?: string;
  original?: string;
  replacement: string;
  confidence?: number;
  recognizer?: string;
  group?: number;
  keep: boolean;
}

/** One page of a regions document. */
export interface DocPage {
  page: number;
  width: number;
  height: number;
  orientation: 0 | 90 | 180 | 270;
  regions: DocRegion[];
}

/** A regions document, version 1. */
export interface RegionsDocument {
  kind: 'doc-anon/regions';
  version: 1;
  source?: { type: 'image' | 'pdf'; format?: string; sha256?: string; dpi?: number };
  pages: DocPage[];
}

/** What an anonymization answers. */
export interface AnonymizeAnswer {
  document: Blob;
  contentType: string;
  format: string;
  report: unknown;
  audit: unknown;
}

/** The two calls the page makes. */
export interface DocAnonApi {
  detect(file: Blob, options: { includeOriginal: boolean }): Promise<RegionsDocument>;
  anonymize(file: Blob, regions: RegionsDocument): Promise<AnonymizeAnswer>;
}

/** An error the server (or the bridge) answered, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

function base64ToBlob(b64: string, type: string): Blob {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type });
}

/** The HTTP API at `base` (`token` read at each call: the person may type it after a 401). */
export function httpApi(base: URL, token: () => string): DocAnonApi {
  async function call(route: string, form: FormData): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const t = token().trim();
    if (t) headers.authorization = `Bearer ${t}`;
    let r: Response;
    try {
      r = await fetch(new URL(route, base), { method: 'POST', body: form, headers });
    } catch (e) {
      throw new ApiError('ERR_NETWORK', `the server could not be reached (${(e as Error).message})`);
    }
    const body = (await r.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    if (!r.ok) throw new ApiError(body?.error?.code ?? `HTTP_${r.status}`, body?.error?.message ?? r.statusText, r.status);
    return body;
  }
  return {
    async detect(file, options) {
      const form = new FormData();
      form.append('image', file, 'document');
      form.append('options', new Blob([JSON.stringify(options)], { type: 'application/json' }));
      return (await call('v1/detect', form)) as RegionsDocument;
    },
    async anonymize(file, regions) {
      const form = new FormData();
      form.append('image', file, 'document');
      form.append('regions', new Blob([JSON.stringify(regions)], { type: 'application/json' }));
      const j = (await call('v1/anonymize', form)) as { document: string; contentType: string; format: string; report: unknown; audit: unknown };
      return { document: base64ToBlob(j.document, j.contentType), contentType: j.contentType, format: j.format, report: j.report, audit: j.audit };
    },
  };
}

/** The API to use: an Electron bridge when the app gave one, else HTTP (`?api=` or where the page came from). */
export function pickApi(token: () => string): DocAnonApi {
  const bridge = (globalThis as { docAnon?: DocAnonApi }).docAnon;
  if (bridge && typeof bridge.detect === 'function' && typeof bridge.anonymize === 'function') return bridge;
  const given = new URLSearchParams(location.search).get('api');
  return httpApi(new URL(given ? (given.endsWith('/') ? given : `${given}/`) : '.', location.href), token);
}
