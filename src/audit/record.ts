/**
 * The audit record of an anonymization: what went in and came out (sha256), what did it (package,
 * engine and its seeds, models, OCR data, policy), what was decided per region, how the output was
 * verified, and when. With a secret (DOC_ANON_SECRET) it carries an HMAC over all of that, so a later
 * reader holding the secret can tell it was not edited; `doc-anon audit verify` checks a record
 * against the files.
 *
 * Its decisions hold no original text (boxes, entity types, the fakes drawn); the page reports have
 * it only when the caller asked for it (`includeOriginal`). The policy is named by its sha256 (kept
 * values can be names a reader need not see).
 */
import { createHash, createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../core/package-paths';
import type { DetectionPolicy } from '../detect/policy';
import type { AnonymizeReport } from '../inference/report';

/** The `kind` of an audit record. */
export const AUDIT_RECORD_KIND = 'doc-anon/audit';
/** The version written. */
export const AUDIT_RECORD_VERSION = 1;

const sha = z.string().regex(/^[0-9a-f]{64}$/);

/** A file of the record: its sha256 and size (and its name when there was one). */
const FileSchema = z.strictObject({ name: z.string().optional(), type: z.string().optional(), format: z.string(), sha256: sha, bytes: z.number().int().min(0) });

/** One region decision. */
const DecisionSchema = z.strictObject({
  /** 1-based page. */
  page: z.number().int().min(1),
  /** `replaced` (a given or detected region), `added` (found by the verification and replaced too), `kept` (left as it is). */
  decision: z.enum(['replaced', 'added', 'kept']),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  entity: z.string().optional(),
  recognizer: z.string().optional(),
  confidence: z.number().optional(),
  /** The fake drawn (replaced and added regions). */
  replacement: z.string().optional(),
});

/** The audit record (version 1). */
export const AuditRecordSchema = z.strictObject({
  kind: z.literal(AUDIT_RECORD_KIND),
  version: z.literal(AUDIT_RECORD_VERSION),
  /** Where it was made: the CLI, the HTTP API (the review page goes through it) or the library. */
  via: z.enum(['cli', 'http', 'library']),
  startedAt: z.string(),
  finishedAt: z.string(),
  package: z.strictObject({ name: z.string(), version: z.string(), node: z.string() }),
  input: FileSchema,
  output: FileSchema,
  /** The engine's name, and its settings (seeds included). */
  engine: z.string(),
  engineSettings: z.record(z.string(), z.unknown()),
  /** Model sources and their files (diffute); absent for the classic engine, which has none. */
  models: z.record(z.string(), z.unknown()).optional(),
  ocr: z.strictObject({ engine: z.string(), version: z.string(), languages: z.array(z.strictObject({ code: z.string(), source: z.string(), version: z.string().optional() })) }),
  policy: z.strictObject({ sha256: sha, entities: z.union([z.literal('all'), z.array(z.string())]), skipEntities: z.array(z.string()), keptValues: z.number().int(), keptPatterns: z.number().int(), customRules: z.number().int() }),
  /** Whether fakes were keyed by a secret (the same fake for a value across documents). */
  keyedFakes: z.boolean(),
  /** Where the regions came from: automatic detection, a regions document, or the deprecated bare array. */
  regions: z.strictObject({ source: z.enum(['detected', 'document', 'array']), sha256: sha.optional() }),
  /** Every region's decision, page by page. */
  decisions: z.array(DecisionSchema),
  /** Every page's report (reading, verification, regions, timings); original text only when it was asked for. */
  pages: z.array(z.record(z.string(), z.unknown())),
  /** True when every page was read back and nothing sensitive was found on it. */
  verified: z.boolean(),
  hmac: z.strictObject({ algorithm: z.literal('HMAC-SHA256'), key: z.literal('DOC_ANON_SECRET'), value: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
});
/** An audit record. */
export type AuditRecord = z.output<typeof AuditRecordSchema>;

/** JSON with every object's keys sorted: the bytes the HMAC is computed over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The HMAC of a record (without its `hmac`). The key is derived from the secret for this use only:
 * the same secret also keys the fakes, and one key should not serve two purposes.
 */
export function recordHmac(record: Omit<AuditRecord, 'hmac'> | AuditRecord, secret: string): string {
  const { hmac: _omit, ...body } = record as AuditRecord;
  const key = createHmac('sha256', secret).update('doc-anon-torch audit record v1').digest();
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function packageVersion(name: string): string | undefined {
  try {
    const file = name === 'doc-anon-torch' ? path.join(packageRoot, 'package.json') : require.resolve(`${name}/package.json`);
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The format of a document's bytes by their signature (png, jpeg, tiff, webp, pdf; else 'unknown'). */
export function fileFormat(b: Uint8Array): string {
  const at = (i: number, ...v: number[]): boolean => v.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x25, 0x50, 0x44, 0x46)) return 'pdf';
  return 'unknown';
}

/** The engine settings that decide the output (the seeds among them). */
export interface EngineSettings {
  name: string;
  [key: string]: unknown;
}

/** What {@link buildAuditRecord} needs. */
export interface AuditInput {
  via: AuditRecord['via'];
  startedAt: Date;
  finishedAt?: Date;
  input: { bytes: Uint8Array; name?: string; type: 'image' | 'pdf'; format: string };
  output: { bytes: Uint8Array; name?: string; format: string };
  engine: EngineSettings;
  /** Model sources of the engine (local folders are described by their files). */
  models?: Record<string, string | undefined>;
  ocr: { languages: readonly string[]; langPath?: string };
  policy: DetectionPolicy;
  keyedFakes: boolean;
  regions: { source: 'detected' | 'document' | 'array'; bytes?: Uint8Array };
  pages: readonly AnonymizeReport[];
  /** With a secret, the record gets its HMAC. */
  secret?: string;
}

/** The files of a model folder: name, size, and sha256 for its small files (configs); weights by size. */
function describeModel(source: string): unknown {
  if (/^r2:\/\//.test(source)) return { source };
  const SMALL = 1024 * 1024;
  try {
    const files = fs
      .readdirSync(source, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const p = path.join(source, e.name);
        const bytes = fs.statSync(p).size;
        return bytes <= SMALL ? { name: e.name, bytes, sha256: sha256(fs.readFileSync(p)) } : { name: e.name, bytes };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return { source, files };
  } catch {
    return { source };
  }
}

/** The per-region decisions of a page report. */
function decisions(p: AnonymizeReport, page: number): AuditRecord['decisions'] {
  const out: AuditRecord['decisions'] = p.regions.map((r) => ({
    page,
    decision: r.recognizer?.startsWith('verification:') ? ('added' as const) : ('replaced' as const),
    box: r.box,
    ...(r.entity !== undefined ? { entity: r.entity } : {}),
    ...(r.recognizer !== undefined ? { recognizer: r.recognizer } : {}),
    ...(r.confidence !== undefined ? { confidence: r.confidence } : {}),
    replacement: r.replacement,
  }));
  for (const k of p.kept ?? []) {
    out.push({ page, decision: 'kept', box: k.box, ...(k.entity !== undefined ? { entity: k.entity } : {}), ...(k.recognizer !== undefined ? { recognizer: k.recognizer } : {}) });
  }
  return out;
}

/** Builds the audit record of one anonymization (HMAC included when `secret` is given). */
export function buildAuditRecord(a: AuditInput): AuditRecord {
  const pkg = packageVersion('doc-anon-torch') ?? '0.0.0';
  const models = a.models
    ? Object.fromEntries(Object.entries(a.models).filter((e): e is [string, string] => typeof e[1] === 'string').map(([k, v]) => [k, describeModel(v)]))
    : undefined;
  const p = a.policy;
  const record: AuditRecord = {
    kind: AUDIT_RECORD_KIND,
    version: AUDIT_RECORD_VERSION,
    via: a.via,
    startedAt: a.startedAt.toISOString(),
    finishedAt: (a.finishedAt ?? new Date()).toISOString(),
    package: { name: 'doc-anon-torch', version: pkg, node: process.version },
    input: { ...(a.input.name !== undefined ? { name: a.input.name } : {}), type: a.input.type, format: a.input.format, sha256: sha256(a.input.bytes), bytes: a.input.bytes.byteLength },
    output: { ...(a.output.name !== undefined ? { name: a.output.name } : {}), format: a.output.format, sha256: sha256(a.output.bytes), bytes: a.output.bytes.byteLength },
    engine: a.engine.name,
    engineSettings: { ...a.engine },
    ...(models && Object.keys(models).length > 0 ? { models } : {}),
    ocr: {
      engine: 'tesseract.js',
      version: packageVersion('tesseract.js') ?? 'unknown',
      languages: a.ocr.languages.map((code) => {
        if (a.ocr.langPath) return { code, source: a.ocr.langPath };
        const version = packageVersion(`@tesseract.js-data/${code}`);
        return { code, source: `@tesseract.js-data/${code}`, ...(version ? { version } : {}) };
      }),
    },
    policy: {
      sha256: sha256(Buffer.from(canonicalJson(p), 'utf8')),
      entities: p.entities,
      skipEntities: [...p.skipEntities],
      keptValues: p.keep.values.length,
      keptPatterns: p.keep.patterns.length,
      customRules: p.customRules.length,
    },
    keyedFakes: a.keyedFakes,
    regions: { source: a.regions.source, ...(a.regions.bytes ? { sha256: sha256(a.regions.bytes) } : {}) },
    decisions: a.pages.flatMap((pg, i) => decisions(pg, i + 1)),
    pages: a.pages.map((pg) => ({ ...pg })),
    verified: a.pages.length > 0 && a.pages.every((pg) => pg.verified),
  };
  if (a.secret) record.hmac = { algorithm: 'HMAC-SHA256', key: 'DOC_ANON_SECRET', value: recordHmac(record, a.secret) };
  return record;
}
