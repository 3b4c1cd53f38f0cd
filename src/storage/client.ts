/**
 * The S3 client for R2, configured from the environment only. Secrets are read here and never
 * leave the client: errors name missing variables, never values.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DocAnonError, ErrorCode } from '../core/errors';

/** Connection settings resolved from the environment (secrets included; do not log this object). */
export interface R2Settings {
  endpoint: string;
  /** True when R2_ENDPOINT overrides the endpoint (generic S3 servers want path-style URLs). */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Client tuning that is not a secret. */
export interface R2ClientOptions {
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** SDK-level attempts per request (default 3); artifact operations retry on top of this. */
  maxAttempts?: number;
  /** Socket timeout per request in ms (default 120000). */
  requestTimeoutMs?: number;
  /** Connection timeout in ms (default 10000). */
  connectionTimeoutMs?: number;
}

/**
 * Reads `R2_ACCOUNT_ID`, `R2_ACCESS_KEY_ID`, `R2_SECRET_ACCESS_KEY` and the optional `R2_ENDPOINT`.
 * @throws DocAnonError ERR_CONFIG naming the missing or malformed variables (never their values).
 */
export function readR2Settings(env: NodeJS.ProcessEnv = process.env): R2Settings {
  const get = (k: string): string | undefined => {
    const v = env[k];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const endpointOverride = get('R2_ENDPOINT');
  const accountId = get('R2_ACCOUNT_ID');
  const accessKeyId = get('R2_ACCESS_KEY_ID');
  const secretAccessKey = get('R2_SECRET_ACCESS_KEY');
  const missing: string[] = [];
  if (!endpointOverride && !accountId) missing.push('R2_ACCOUNT_ID (or R2_ENDPOINT)');
  if (!accessKeyId) missing.push('R2_ACCESS_KEY_ID');
  if (!secretAccessKey) missing.push('R2_SECRET_ACCESS_KEY');
  if (missing.length > 0) {
    throw new DocAnonError(
      ErrorCode.CONFIG,
      `R2 storage is not configured: missing environment variable(s) ${missing.join(', ')}. ` +
        'Set them to your Cloudflare R2 account id and an R2 API token key pair (or R2_ENDPOINT for another S3-compatible server).',
    );
  }
  let endpoint: string;
  if (endpointOverride) {
    let url: URL;
    try {
      url = new URL(endpointOverride);
    } catch {
      throw new DocAnonError(ErrorCode.CONFIG, 'R2_ENDPOINT is not a valid URL: expected e.g. https://host:port.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new DocAnonError(ErrorCode.CONFIG, 'R2_ENDPOINT must be an http:// or https:// URL.');
    }
    if (url.username || url.password) {
      throw new DocAnonError(ErrorCode.CONFIG, 'R2_ENDPOINT must not contain credentials; use R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY.');
    }
    endpoint = url.origin + url.pathname.replace(/\/$/, '');
  } else {
    // The account id becomes a host name: reject anything that could change the host.
    if (!/^[A-Za-z0-9]{1,64}$/.test(accountId!)) {
      throw new DocAnonError(ErrorCode.CONFIG, 'R2_ACCOUNT_ID is malformed: expected the hexadecimal account id from the Cloudflare dashboard.');
    }
    endpoint = `https://${accountId}.r2.cloudflarestorage.com`;
  }
  return { endpoint, forcePathStyle: !!endpointOverride, accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! };
}

/**
 * Creates an S3Client for R2 from the environment: region `auto`, no ACLs, checksums only when
 * required (R2 rejects the SDK's default checksum headers), path-style when R2_ENDPOINT is set.
 */
export function createR2Client(opts: R2ClientOptions = {}): S3Client {
  const s = readR2Settings(opts.env);
  knownSecrets.add(s.secretAccessKey);
  return new S3Client({
    region: 'auto',
    endpoint: s.endpoint,
    forcePathStyle: s.forcePathStyle,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs ?? 120_000,
      connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
    },
  });
}

/** The endpoint the environment selects (no secrets), for log lines. */
export function describeR2Endpoint(env: NodeJS.ProcessEnv = process.env): string {
  return readR2Settings(env).endpoint;
}

// Secrets of the clients this process created (their env may not be process.env).
const knownSecrets = new Set<string>();

/**
 * Removes secret values (of process.env and of every client created here) from a message:
 * defence in depth, as SDK messages should not contain them, but an error must never carry one
 * into a log.
 */
export function redactSecrets(message: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = message;
  const secrets = new Set(knownSecrets);
  const v = env.R2_SECRET_ACCESS_KEY;
  if (typeof v === 'string') secrets.add(v.trim());
  for (const sec of secrets) if (sec.length >= 4) out = out.split(sec).join('[REDACTED]');
  return out;
}
