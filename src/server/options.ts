/**
 * Server settings (strict zod): where to listen, the limits that keep one request from hurting the
 * others, and the Anonymizer to serve with. The bearer token comes from the environment
 * (DOC_ANON_TOKEN) so it never sits in a config file or a command line.
 */
import { z } from 'zod';
import { parseConfig } from '../core/config';
import { AnonymizerOptionsSchema } from '../inference/anonymizer';

/** Limits of the HTTP API. */
export const ServerLimitsSchema = z.strictObject({
  /** Largest request body, bytes (default 32 MiB). */
  bodyBytes: z.number().int().min(1024).max(2 ** 31).default(32 * 1024 * 1024),
  /** Largest `options` part of a multipart request, bytes (default 1 MiB). */
  optionsBytes: z.number().int().min(256).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Largest image (width * height) decoded, and largest rendered PDF page (default 40 MP). */
  maxPixels: z.number().int().positive().default(40_000_000),
  /** Most regions per request (supplied or detected; default 256). */
  maxRegions: z.number().int().positive().max(100_000).default(256),
  /** Time from arrival to response, queue wait included, ms (default 60000); ERR_TIMEOUT (503). */
  timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** Requests processed at once (default 2). */
  concurrency: z.number().int().min(1).max(256).default(2),
  /** Requests waiting beyond those; more get 429 ERR_BUSY (default 16). */
  maxQueue: z.number().int().min(0).max(100_000).default(16),
  /**
   * Requests one client address may have in flight at once (arriving, waiting or running; default 8,
   * under half the default queue; 0: no cap). More are 429 ERR_BUSY at once. Behind a reverse proxy set `trustProxy`, or every
   * client is the proxy's address.
   */
  perClient: z.number().int().min(0).max(100_000).default(8),
  /**
   * Slowest body accepted, bytes per second (default 8192; 0: no minimum), measured over each
   * window of `bodyRateWindowMs` (default 5000, the first window is the grace to start): a body
   * arriving slower is cut with 408 ERR_TIMEOUT and its queue place freed.
   */
  minBodyBytesPerSecond: z.number().int().min(0).max(2 ** 31).default(8192),
  bodyRateWindowMs: z.number().int().min(100).max(600_000).default(5000),
  /** PDF input: most pages (default 20) and the default rendering resolution (default 150 dpi). */
  pdfMaxPages: z.number().int().min(1).max(1000).default(20),
  pdfDpi: z.number().int().min(36).max(600).default(150),
  /** PDF input: largest sum of rendered page pixels over the document (default 200 MP; all pages are held at once). */
  pdfMaxTotalPixels: z.number().int().positive().default(200_000_000),
  /**
   * Let requests bring their own regular expressions in `policy` (customRules, keep.patterns).
   * Off by default: patterns run on the serving thread, and a catastrophic one from a client
   * would stall every request. Only for trusted clients.
   */
  requestPatterns: z.boolean().default(false),
});

/** Settings of {@link createServer}. */
export const ServerOptionsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8080),
  /**
   * Take the client's address from X-Forwarded-For (fastify's trustProxy: true, or the proxies'
   * addresses/CIDRs); default false. The per-client cap counts by that address.
   */
  trustProxy: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).default(false),
  limits: ServerLimitsSchema.prefault({}),
  /** Serve the review page at / (default true; it is static and holds no data). */
  page: z.boolean().default(true),
  /** The Anonymizer's options (its pixel and region limits are set from `limits`). */
  anonymizer: AnonymizerOptionsSchema.optional(),
  /**
   * Bearer token required on /v1 and /metrics (default: the DOC_ANON_TOKEN environment variable;
   * none: no authentication, for loopback use).
   */
  token: z.string().min(16, 'the token must be at least 16 characters').optional(),
});
/** Server settings as written. */
export type ServerOptions = z.input<typeof ServerOptionsSchema>;
/** Server settings with defaults. */
export type ResolvedServerOptions = z.output<typeof ServerOptionsSchema>;
/** Server limits with defaults. */
export type ServerLimits = z.output<typeof ServerLimitsSchema>;

/** Validates the settings (ERR_CONFIG); the token defaults to DOC_ANON_TOKEN. */
export function parseServerOptions(options: ServerOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedServerOptions {
  const token = options.token ?? (env.DOC_ANON_TOKEN ? env.DOC_ANON_TOKEN : undefined);
  return parseConfig(ServerOptionsSchema, { ...options, token }, 'server options');
}
