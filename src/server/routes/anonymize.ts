/**
 * POST /v1/anonymize: a document image (PNG, JPEG, TIFF, WebP) or a PDF in, the anonymized
 * document out (same format; a PDF comes back as a PDF of page images).
 *
 * - Body: the document itself (Content-Type image/png, image/jpeg, image/tiff, image/webp,
 *   application/pdf or application/octet-stream: the type is sniffed from the bytes), or
 *   multipart/form-data with an `image` part, an optional `options` part (JSON,
 *   AnonymizeRequestOptionsSchema: regions, pageRegions, format, policy, includeOriginal, verify,
 *   ocr, dpi) and an optional `regions` part (a regions document, as POST /v1/detect answers it,
 *   edited or not). Without regions, sensitive text is detected and replaced.
 * - Response: by default the document bytes, with `X-Doc-Anon-Regions` (count),
 *   `X-Doc-Anon-Verified` (true/false) and, when it fits in 8 KiB, `X-Doc-Anon-Report` (the report
 *   as base64url JSON). With `Accept: application/json`: `{ format, contentType, document (base64),
 *   report, audit }` where report is one page's report, or `{ pages: [...] }` for a PDF, and audit
 *   the audit record (sha256 of what came in and goes out, versions, decisions; HMAC with a secret).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { Anonymizer } from '../../inference/anonymizer';
import { buildReport, type AnonymizeReport } from '../../inference/report';
import { anonymizePdf } from '../../pdf/anonymize-pdf';
import { isPdf } from '../../pdf/rasterize';
import { anonymizerAudit, buildAuditRecord, fileFormat } from '../../audit';
import { parseDetectionPolicy } from '../../detect/policy';
import { regionsForImage } from '../../inference/regions-document';
import type { Admission } from '../admission';
import { readRequest, type RequestInput } from '../body';
import { runBeforeDeadline } from './signal';
import type { Metrics } from '../metrics';
import type { ServerLimits } from '../options';
import type { BoundedQueue, KeepSlot } from '../queue';

const MAX_REPORT_HEADER = 8 * 1024;

export interface AnonymizeRouteDeps {
  anonymizer: Anonymizer;
  queue: BoundedQueue;
  metrics: Metrics;
  limits: ServerLimits;
  admission: Admission;
}

interface Outcome {
  body: Buffer;
  contentType: string;
  format: string;
  reports: AnonymizeReport[];
  pdf: boolean;
}

export function anonymizeRoute(app: FastifyInstance, deps: AnonymizeRouteDeps): void {
  const { anonymizer, queue, metrics, limits } = deps;

  // `keep`: an OCR read abandoned by a timeout or a client that left keeps its request's slot until it ends.
  async function work(input: RequestInput, signal: AbortSignal, keep: KeepSlot): Promise<Outcome> {
    const { document: doc, options } = input;
    const { document: regionsDocument, legacy } = input.regions?.input ?? {};
    if (isPdf(doc)) {
      if (options.regions || legacy) throw new DocAnonError(ErrorCode.INPUT, 'for a PDF give a regions document (or `pageRegions`, one regions list per page), not `regions`');
      const r = await anonymizePdf(anonymizer, doc, {
        // A regions document's boxes are in the pixels of the dpi it was made at.
        dpi: options.dpi ?? regionsDocument?.source?.dpi ?? limits.pdfDpi,
        maxPages: limits.pdfMaxPages,
        maxPixelsPerPage: limits.maxPixels,
        maxTotalPixels: limits.pdfMaxTotalPixels,
        timeoutMs: limits.timeoutMs,
        pageRegions: options.pageRegions,
        regionsDocument,
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
    const regions = regionsDocument ? await regionsForImage(regionsDocument, doc) : (legacy ?? options.regions);
    const r = await anonymizer.anonymize(doc, {
      regions,
      format: options.format,
      policy: options.policy,
      includeOriginal: options.includeOriginal,
      verify: options.verify,
      // A document's page without regions says the page has nothing to replace, as detection found.
      allowEmpty: options.allowEmpty || regionsDocument !== undefined,
      ocr: options.ocr,
      signal,
      onUnfinishedWork: keep,
    });
    return { body: r.image, contentType: `image/${r.format}`, format: r.format, reports: [buildReport(r, regions)], pdf: false };
  }

  // The token, the client's share and the queue's room are checked when the request arrives, before
  // its body is read, and the body must keep arriving (see ../admission.ts).
  app.post('/v1/anonymize', deps.admission.hooks(), async (req: FastifyRequest, reply: FastifyReply) => {
    const startedAt = new Date();
    // The body is here: the admission passes into the queue (queue.run below, in this same turn).
    deps.admission.bodyArrived(req);
    const input = readRequest(req.body, req.headers['content-type'], limits);
    const { options } = input;
    const outcome = await runBeforeDeadline(queue, reply, limits.timeoutMs, (signal, keep) => work(input, signal, keep));
    for (const rep of outcome.reports) {
      metrics.pages.inc({ kind: outcome.pdf ? 'pdf' : 'image' });
      for (const region of rep.regions) metrics.regions.inc({ source: rep.mode, entity: region.entity ?? 'supplied' });
    }
    const regionCount = outcome.reports.reduce((a, r) => a + r.regions.length, 0);
    const verified = outcome.reports.every((r) => r.verified);
    (req as FastifyRequest & { regionCount?: number }).regionCount = regionCount;
    const reportJson = outcome.pdf ? { pages: outcome.reports } : outcome.reports[0];
    if ((req.headers.accept ?? '').toLowerCase().includes('application/json')) {
      const regionsSource = input.regions ? (input.regions.input.document ? 'document' : 'array') : options.regions || options.pageRegions ? 'array' : 'detected';
      const audit = buildAuditRecord({
        via: 'http',
        startedAt,
        input: { bytes: input.document, type: outcome.pdf ? 'pdf' : 'image', format: fileFormat(input.document) },
        output: { bytes: outcome.body, format: outcome.format },
        ...anonymizerAudit(anonymizer),
        policy: parseDetectionPolicy(options.policy ?? anonymizer.options.detection.policy ?? {}),
        regions: { source: regionsSource, ...(input.regions ? { bytes: input.regions.bytes } : {}) },
        pages: outcome.reports,
        secret: anonymizer.options.detection.secret,
      });
      reply.header('content-type', 'application/json; charset=utf-8');
      return { format: outcome.format, contentType: outcome.contentType, document: outcome.body.toString('base64'), report: reportJson, audit };
    }
    reply.header('content-type', outcome.contentType);
    reply.header('x-doc-anon-regions', String(regionCount));
    reply.header('x-doc-anon-verified', String(verified));
    // The header is the short report: the regions' style measurements (a few hundred bytes each)
    // would push a page of twenty regions past what proxies take; they are in the JSON answer.
    const encoded = Buffer.from(JSON.stringify(reportJson, (key, value) => (key === 'style' ? undefined : value)), 'utf8').toString('base64url');
    // Originals never go into a header (proxies log headers): with includeOriginal, ask for JSON.
    if (encoded.length <= MAX_REPORT_HEADER && !options.includeOriginal) reply.header('x-doc-anon-report', encoded);
    return reply.send(outcome.body);
  });
}
