/**
 * POST /v1/detect: a document image or a PDF in (the same request forms as POST /v1/anonymize: the
 * raw body, or multipart with an `image` part and an optional `options` part: policy,
 * includeOriginal, ocr, dpi), the regions document out: what an automatic anonymization would
 * replace, per page, to review, edit and send back to POST /v1/anonymize as its `regions` part.
 * Same admission, queue, time limit and metrics as anonymize.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { Anonymizer } from '../../inference/anonymizer';
import { sha256Hex, toRegionsDocument, type RegionsDocument } from '../../inference/regions-document';
import { detectPdf } from '../../pdf/detect-pdf';
import { isPdf } from '../../pdf/rasterize';
import type { Admission } from '../admission';
import { readDetectRequest, type DetectInput } from '../body';
import type { Metrics } from '../metrics';
import type { ServerLimits } from '../options';
import type { BoundedQueue, KeepSlot } from '../queue';
import { runBeforeDeadline } from './signal';

export interface DetectRouteDeps {
  anonymizer: Anonymizer;
  queue: BoundedQueue;
  metrics: Metrics;
  limits: ServerLimits;
  admission: Admission;
}

export function detectRoute(app: FastifyInstance, deps: DetectRouteDeps): void {
  const { anonymizer, queue, metrics, limits } = deps;

  async function work(input: DetectInput, signal: AbortSignal, keep: KeepSlot): Promise<RegionsDocument> {
    const { document: doc, options } = input;
    if (isPdf(doc)) {
      if (options.ocr) throw new DocAnonError(ErrorCode.INPUT, '`ocr` is for an image; a PDF is read from its text layer and by OCR');
      const r = await detectPdf(anonymizer, doc, {
        dpi: options.dpi ?? limits.pdfDpi,
        maxPages: limits.pdfMaxPages,
        maxPixelsPerPage: limits.maxPixels,
        maxTotalPixels: limits.pdfMaxTotalPixels,
        timeoutMs: limits.timeoutMs,
        policy: options.policy,
        includeOriginal: options.includeOriginal,
        signal,
        onUnfinishedWork: keep,
      });
      return toRegionsDocument({ type: 'pdf', format: 'pdf', sha256: sha256Hex(doc), dpi: r.dpi }, r.pages);
    }
    const r = await anonymizer.detect(doc, { policy: options.policy, includeOriginal: options.includeOriginal, ocr: options.ocr, signal, onUnfinishedWork: keep });
    return toRegionsDocument({ type: 'image', format: r.format, sha256: sha256Hex(doc) }, [r]);
  }

  app.post('/v1/detect', deps.admission.hooks(), async (req: FastifyRequest, reply: FastifyReply) => {
    deps.admission.bodyArrived(req);
    const input = readDetectRequest(req.body, req.headers['content-type'], limits);
    const doc = await runBeforeDeadline(queue, reply, limits.timeoutMs, (signal, keep) => work(input, signal, keep));
    let count = 0;
    for (const p of doc.pages) {
      for (const r of p.regions) {
        metrics.detected.inc({ entity: r.entity ?? 'unknown' });
        count++;
      }
    }
    (req as FastifyRequest & { regionCount?: number }).regionCount = count;
    reply.header('content-type', 'application/json; charset=utf-8');
    return doc;
  });
}
