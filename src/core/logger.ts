/**
 * The library's logger (pino): JSON lines by default, human-readable on a TTY when pino-pretty is
 * installed, and secrets redacted wherever they appear under the usual key names.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Key paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'password', '*.password', 'token', '*.token', 'authorization', '*.authorization',
  'accessKeyId', '*.accessKeyId', 'secretAccessKey', '*.secretAccessKey', 'credentials', '*.credentials',
  'headers.authorization', 'req.headers.authorization', 'env.R2_SECRET_ACCESS_KEY', 'env.R2_ACCESS_KEY_ID',
];

function prettyTransport(): LoggerOptions['transport'] | undefined {
  if (!process.stdout.isTTY || process.env.DOC_ANON_LOG_FORMAT === 'json') return undefined;
  try {
    require.resolve('pino-pretty');
    return { target: 'pino-pretty', options: { colorize: true } };
  } catch {
    return undefined;
  }
}

/** Creates a logger; level from DOC_ANON_LOG_LEVEL (default "info"). A destination disables pretty printing. */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    name: 'doc-anon',
    level: process.env.DOC_ANON_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    transport: destination ? undefined : prettyTransport(),
    ...options,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

let shared: Logger | undefined;
/** The process-wide logger of the library. */
export function logger(): Logger {
  shared ??= createLogger();
  return shared;
}
