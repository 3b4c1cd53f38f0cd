/**
 * The HTTP API (fastify): assembles the routes, the body parsers with their size limit, the bounded
 * queue, authentication, metrics, error mapping and request logs. Logs carry the method, route,
 * status, duration, sizes and error code: never document bytes, text, options or the token.
 *
 * ```ts
 * const server = await createServer({ port: 8080 });
 * await server.listen();      // http://127.0.0.1:8080
 * await server.close();       // stops accepting, finishes requests in flight, frees the Anonymizer
 * ```
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DocAnonError, ErrorCode } from '../core/errors';
import { createLogger } from '../core/logger';
import { Anonymizer } from '../inference/anonymizer';
import { Admission, isSlowBody } from './admission';
import { bearerChecker } from './auth';
import { RAW_TYPES } from './body';
import { toHttpError } from './http-errors';
import { Metrics } from './metrics';
import { parseServerOptions, type ResolvedServerOptions, type ServerOptions } from './options';
import { BoundedQueue } from './queue';
import { anonymizeRoute } from './routes/anonymize';
import { detectRoute } from './routes/detect';
import { pageRoute } from './routes/page';
import { healthRoute } from './routes/health';
import { metricsRoute } from './routes/metrics';

/** A created server. */
export interface DocAnonServer {
  app: FastifyInstance;
  anonymizer: Anonymizer;
  options: ResolvedServerOptions;
  /** Starts listening; resolves to the address (e.g. http://127.0.0.1:8080). */
  listen(): Promise<string>;
  /** Stops the server and, when it created it, the Anonymizer (OCR workers included). */
  close(): Promise<void>;
}

/**
 * Creates the server (not yet listening). `runtime.anonymizer` serves with an existing Anonymizer
 * (the caller keeps ownership; its limits should match `limits`); `runtime.logger` replaces the
 * default pino logger.
 */
export async function createServer(options: ServerOptions = {}, runtime: { anonymizer?: Anonymizer; logger?: Logger } = {}): Promise<DocAnonServer> {
  const o = parseServerOptions(options);
  const log = runtime.logger ?? createLogger({ name: 'doc-anon-server' });
  const limits = o.limits;
  const anonymizer =
    runtime.anonymizer ??
    (await Anonymizer.create({
      ...o.anonymizer,
      limits: { ...o.anonymizer?.limits, maxPixels: limits.maxPixels, maxRegions: limits.maxRegions },
      detection: { ...o.anonymizer?.detection, ocr: { ...o.anonymizer?.detection?.ocr, timeoutMs: o.anonymizer?.detection?.ocr?.timeoutMs ?? limits.timeoutMs } },
    }));
  const queue = new BoundedQueue(limits.concurrency, limits.maxQueue);
  const check = o.token ? bearerChecker(o.token) : undefined;
  const authorize = (header: string | undefined): void => check?.(header);
  // Filled in below; the gauges read it at scrape time.
  let admission: Admission | undefined;
  const metrics = new Metrics(() => ({
    doc_anon_queue_depth: { help: 'Requests waiting for a slot.', value: queue.depth },
    doc_anon_queue_running: { help: 'Requests being processed (slots in use, abandoned OCR reads included).', value: queue.running },
    doc_anon_queue_lingering: { help: 'Slots held only by OCR reads whose request already ended (timeout, client gone).', value: queue.lingering },
    doc_anon_queue_arriving: { help: 'Requests admitted whose bodies are still arriving (they count against the capacity).', value: queue.arriving },
    doc_anon_queue_capacity: { help: 'Requests that may run or wait before 429.', value: limits.concurrency + limits.maxQueue },
    doc_anon_clients_active: { help: 'Client addresses with requests in flight.', value: admission?.clients ?? 0 },
    doc_anon_client_requests_max: { help: 'Requests in flight of the busiest client address (at most limits.perClient).', value: admission?.busiestClient ?? 0 },
    doc_anon_limit_per_client: { help: 'Requests one client address may have in flight (0: no cap).', value: limits.perClient },
    doc_anon_limit_min_body_bytes_per_second: { help: 'Slowest request body accepted, bytes per second (0: no minimum).', value: limits.minBodyBytesPerSecond },
    doc_anon_process_resident_memory_bytes: { help: 'Resident memory of the process.', value: process.memoryUsage().rss },
    doc_anon_process_heap_used_bytes: { help: 'V8 heap in use.', value: process.memoryUsage().heapUsed },
  }));
  admission = new Admission(queue, limits, authorize, metrics);

  let closing: Promise<void> | undefined;
  const app: FastifyInstance = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // One log line per request, written by the onResponse hook below (fastify's own lines would
    // log the URL with its query string).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    // Slow senders cannot hold a connection forever; the work itself has limits.timeoutMs.
    requestTimeout: limits.timeoutMs + 30_000,
    connectionTimeout: 0,
    trustProxy: o.trustProxy,
    return503OnClosing: true,
    // Errors Node's HTTP parser raises before a route sees the request (a malformed request line or
    // Content-Length, a bad chunk, a body that stops arriving): the same {error:{code,message}}
    // body as every other error, not fastify's default.
    clientErrorHandler: (err, socket) => {
      if (socket.destroyed || !socket.writable) return;
      const timeout = (err as { code?: string }).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const body = JSON.stringify({
        error: timeout
          ? { code: ErrorCode.TIMEOUT, message: 'the request did not arrive in time' }
          : { code: ErrorCode.INPUT, message: `malformed HTTP request: ${(err as Error).message}` },
      });
      socket.end(
        `HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Body parsers that keep the whole body in memory (bounded by bodyLimit): nothing touches the disk.
  // Every other media type (JSON included) is refused with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...RAW_TYPES, 'multipart/form-data'], { parseAs: 'buffer', bodyLimit: limits.bodyBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error, req, reply) => {
    const h = toHttpError(error, req.id);
    if (isSlowBody(error)) h.status = 408;
    // An answer before the whole body arrived (refused at admission, cut for its rate): the rest is
    // not read, so the connection goes with the answer instead of draining a slow sender's body.
    if (!req.raw.complete) reply.header('connection', 'close');
    (req as typeof req & { errorCode?: string }).errorCode = h.code;
    if (h.internal) req.log.error({ code: h.code, err: { message: (error as Error).message, stack: (error as Error).stack } }, 'request failed');
    if (h.status === 429 || h.status === 503) reply.header('retry-after', '1');
    if (h.status === 401) reply.header('www-authenticate', 'Bearer');
    void reply.status(h.status).type('application/json; charset=utf-8').send({ error: { code: h.code, message: h.message } });
  });
  app.setNotFoundHandler((req, reply) => {
    (req as typeof req & { errorCode?: string }).errorCode = ErrorCode.NOT_FOUND;
    void reply.status(404).send({ error: { code: ErrorCode.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  type Logged = FastifyRequest & { errorCode?: string; regionCount?: number; logged?: boolean };
  app.addHook('onResponse', async (req, reply) => {
    // A connection whose response went out just as close() began is idle now: let it go.
    if (closing) setImmediate(() => app.server.closeIdleConnections());
    // A request already logged as aborted (its answer could not be delivered) is not logged twice.
    if ((req as Logged).logged) return;
    (req as Logged).logged = true;
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, seconds);
    const code = (req as typeof req & { errorCode?: string }).errorCode;
    if (code) metrics.errors.inc({ code });
    req.log.info(
      {
        method: req.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        bytesIn: Number(req.headers['content-length'] ?? 0),
        regions: (req as typeof req & { regionCount?: number }).regionCount,
        code,
      },
      'request',
    );
  });

  // A client that went away before its answer (mid-body, or while its work ran) gets its log line
  // and metrics like every other request: status 499, ERR_ABORTED, the bytes that did arrive.
  app.addHook('onRequestAbort', async (req) => {
    if ((req as Logged).logged) return;
    (req as Logged).logged = true;
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = (performance.now() - ((req as Logged & { startedAt?: number }).startedAt ?? performance.now())) / 1000;
    metrics.requests.inc({ route, method: req.method, status: '499' });
    metrics.latency.observe({ route }, seconds);
    metrics.errors.inc({ code: ErrorCode.ABORTED });
    metrics.aborted.inc({ route });
    req.log.info(
      { method: req.method, route, status: 499, ms: Math.round(seconds * 1000), bytesIn: admission?.received(req) ?? 0, regions: (req as Logged).regionCount, code: ErrorCode.ABORTED },
      'request',
    );
  });
  app.addHook('onRequest', async (req) => {
    (req as Logged & { startedAt?: number }).startedAt = performance.now();
  });

  // While closing, every response ends its connection: keep-alive clients would otherwise hold
  // close() open for fastify's keep-alive timeout (72 s) after their last response.
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  healthRoute(app, { queue, engine: anonymizer.engineName, admission, limits });
  metricsRoute(app, { metrics, authorize });
  anonymizeRoute(app, { anonymizer, queue, metrics, limits, admission });
  detectRoute(app, { anonymizer, queue, metrics, limits, admission });
  if (o.page) pageRoute(app);

  return {
    app,
    anonymizer,
    options: o,
    async listen() {
      return app.listen({ host: o.host, port: o.port });
    },
    close() {
      closing ??= (async () => {
        // Requests in flight finish (each bounded by limits.timeoutMs); past that, and past a
        // slow upload's requestTimeout, the remaining connections are cut.
        const cut = setTimeout(() => app.server.closeAllConnections(), limits.timeoutMs + 5_000);
        try {
          await app.close();
        } finally {
          clearTimeout(cut);
        }
        if (!runtime.anonymizer) await anonymizer.close();
      })();
      return closing;
    },
  };
}

/** The address a listening server is reachable at. */
export function serverAddress(server: DocAnonServer): string {
  const a = server.app.server.address();
  if (!a || typeof a === 'string') throw new DocAnonError(ErrorCode.INTERNAL, 'the server is not listening on TCP');
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
