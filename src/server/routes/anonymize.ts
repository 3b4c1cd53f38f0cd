/**
 * POST /v1/anonymize: a document image (PNG, JPEG, TIFF, WebP) or a PDF in, the anonymized
 * document out (same format; a PDF comes back as a PDF of page images).
 *
 * - Body: the document itself (Content-Type image/png, image/jpeg, image/tiff, image/webp,
 *   application/pdf or application/octet-stream: the type is sniffed from the bytes), or
 *   multipart/form-data with an `image` part and an optional `options` part (JSON,
 *   AnonymizeRequestOptionsSchema: regions, pageRegions, format, policy, includeOriginal, verify,
 *   ocr, dpi). Without regions, sensitive text is detected and replaced.
 * - Response: by default the document bytes, with `X-Doc-Anon-Regions` (count),
 *   `X-Doc-Anon-Verified` (true/false) and, when it fits in 8 KiB, `X-Doc-Anon-Report` (the report
 *   as base64url JSON). With `Accept: application/json`: `{ format, contentType, document (base64),
 *   report }` where report is one page's report, or `{ pages: [...] }` for a PDF.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { Anonymizer } from '../../inference/anonymizer';
import { buildReport, type AnonymizeReport } from '../../inference/report';
import { anonymizePdf } from '../../pdf/anonymize-pdf';
import { isPdf } from '../../pdf/rasterize';
import { readRequest } from '../body';
import { timeoutError } from '../http-errors';
import type { Metrics } from '../metrics';
import type { ServerLimits } from '../options';
import type { BoundedQueue, KeepSlot } from '../queue';

const MAX_REPORT_HEADER = 8 * 1024;

export interface AnonymizeRouteDeps {
  anonymizer: Anonymizer;
  queue: BoundedQueue;
  metrics: Metrics;
  limits: ServerLimits;
  authorize: (header: string | undefined) => void;
}

interface Outcome {
  body: Buffer;
  contentType: string;
  format: string;
  reports: AnonymizeReport[];
  pdf: boolean;
}

/** A signal that aborts at the deadline or when the client goes away (the response closes unfinished). */
function requestSignal(reply: FastifyReply, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const ac = new AbortController();
  const deadline = performance.now() + timeoutMs;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(timeoutError(timeoutMs));
  }, timeoutMs);
  const onClose = (): void => {
    if (!reply.raw.writableFinished) ac.abort(new DocAnonError(ErrorCode.ABORTED, 'the client closed the connection'));
  };
  reply.raw.once('close', onClose);
  return {
    signal: ac.signal,
    // Also past the deadline when synchronous work kept the timer from firing.
    timedOut: () => timedOut || performance.now() > deadline,
    done: () => {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    },
  };
}

export function anonymizeRoute(app: FastifyInstance, deps: AnonymizeRouteDeps): void {
  const { anonymizer, queue, metrics, limits } = deps;

  // `keep`: an OCR read abandoned by a timeout or a client that left keeps its request's slot until it ends.
  async function work(doc: Buffer, options: ReturnType<typeof readRequest>['options'], signal: AbortSignal, keep: KeepSlot): Promise<Outcome> {
    if (isPdf(doc)) {
      if (options.regions) throw new DocAnonError(ErrorCode.INPUT, 'for a PDF give `pageRegions` (one regions list per page), not `regions`');
      const r = await anonymizePdf(anonymizer, doc, {
        dpi: options.dpi ?? limits.pdfDpi,
        maxPages: limits.pdfMaxPages,
        maxPixelsPerPage: limits.maxPixels,
        maxTotalPixels: limits.pdfMaxTotalPixels,
        timeoutMs: limits.timeoutMs,
        pageRegions: options.pageRegions,
        policy: options.policy,
        includeOriginal: options.includeOriginal,
        verify: options.verify,
        allowEmpty: options.allowEmpty,
        signal,
        onUnfinishedWork: keep,
      });
      const reports = r.pages.map((p) => buildReport({ ...p, format: 'pdf' }, options.pageRegions?.[p.page - 1]));
      return { body: r.pdf, contentType: 'application/pdf', format: 'pdf', reports, pdf: true };
    }
    if (options.pageRegions) throw new DocAnonError(ErrorCode.INPUT, '`pageRegions` is for PDFs; give `regions` for an image');
    const r = await anonymizer.anonymize(doc, {
      regions: options.regions,
      format: options.format,
      policy: options.policy,
      includeOriginal: options.includeOriginal,
      verify: options.verify,
      allowEmpty: options.allowEmpty,
      ocr: options.ocr,
      signal,
      onUnfinishedWork: keep,
    });
    return { body: r.image, contentType: `image/${r.format}`, format: r.format, reports: [buildReport(r, options.regions)], pdf: false };
  }

  // The token and the queue's room are checked when the request arrives, before its body is read:
  // a client without the token, or beyond what the queue can take, cannot make the server buffer
  // bodies (the admitted ones are bounded by the queue's capacity times limits.bodyBytes).
  const admissions = new WeakMap<FastifyRequest, () => void>();
  const release = async (req: FastifyRequest): Promise<void> => admissions.get(req)?.();
  const onRequest = async (req: FastifyRequest): Promise<void> => {
    deps.authorize(req.headers.authorization);
    admissions.set(req, queue.admit());
  };
  app.post('/v1/anonymize', { onRequest, onResponse: release, onRequestAbort: release }, async (req: FastifyRequest, reply: FastifyReply) => {
    // The body is here: the admission passes into the queue (queue.run below, in this same turn).
    admissions.get(req)?.();
    const { document, options } = readRequest(req.body, req.headers['content-type'], limits);
    const s = requestSignal(reply, limits.timeoutMs);
    let outcome: Outcome;
    try {
      outcome = await queue.run((keep) => work(document, options, s.signal, keep), s.signal);
    } catch (e) {
      // An abort caused by the deadline is a timeout whatever layer noticed it.
      if (s.timedOut()) throw timeoutError(limits.timeoutMs);
      throw e;
    } finally {
      s.done();
    }
    // Finished, but after the deadline: the contract is a timeout, not a late success.
    if (s.timedOut()) throw timeoutError(limits.timeoutMs);
    for (const rep of outcome.reports) {
      metrics.pages.inc({ kind: outcome.pdf ? 'pdf' : 'image' });
      for (const region of rep.regions) metrics.regions.inc({ source: rep.mode, entity: region.entity ?? 'supplied' });
    }
    const regionCount = outcome.reports.reduce((a, r) => a + r.regions.length, 0);
    const verified = outcome.reports.every((r) => r.verified);
    (req as FastifyRequest & { regionCount?: number }).regionCount = regionCount;
    const reportJson = outcome.pdf ? { pages: outcome.reports } : outcome.reports[0];
    if ((req.headers.accept ?? '').toLowerCase().includes('application/json')) {
      reply.header('content-type', 'application/json; charset=utf-8');
      return { format: outcome.format, contentType: outcome.contentType, document: outcome.body.toString('base64'), report: reportJson };
    }
    reply.header('content-type', outcome.contentType);
    reply.header('x-doc-anon-regions', String(regionCount));
    reply.header('x-doc-anon-verified', String(verified));
    const encoded = Buffer.from(JSON.stringify(reportJson), 'utf8').toString('base64url');
    // Originals never go into a header (proxies log headers): with includeOriginal, ask for JSON.
    if (encoded.length <= MAX_REPORT_HEADER && !options.includeOriginal) reply.header('x-doc-anon-report', encoded);
    return reply.send(outcome.body);
  });
}
