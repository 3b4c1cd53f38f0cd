/**
 * Checking an audit record against the files it describes: the input's and the output's sha256,
 * and, when the record carries one, its HMAC under the secret (nothing in the record was edited).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { formatIssues } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { AUDIT_RECORD_KIND, AuditRecordSchema, recordHmac, type AuditRecord } from './record';

/** One check of {@link verifyAuditRecord}. */
export interface AuditCheck {
  name: 'input' | 'output' | 'hmac';
  ok: boolean;
  detail: string;
}

/** The outcome of {@link verifyAuditRecord}: ok only when every check ran and passed. */
export interface AuditVerification {
  ok: boolean;
  checks: AuditCheck[];
  record: AuditRecord;
}

/** Validates a record's shape (ERR_INPUT naming every problem). */
export function parseAuditRecord(value: unknown): AuditRecord {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind !== AUDIT_RECORD_KIND) {
    throw new DocAnonError(ErrorCode.INPUT, `not an audit record (kind ${JSON.stringify(kind)}, expected "${AUDIT_RECORD_KIND}"): write one with anonymize --report`);
  }
  const r = AuditRecordSchema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `invalid audit record:\n${formatIssues(r.error)}`);
  return r.data;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Checks a record against the input and output files. `secret` checks the HMAC; a record with an
 * HMAC and no secret to check it is not ok (unchecked is not verified), and with `requireHmac` a
 * record without one is not ok either.
 */
export function verifyAuditRecord(value: unknown, files: { input: Uint8Array; output: Uint8Array }, options: { secret?: string; requireHmac?: boolean } = {}): AuditVerification {
  const record = parseAuditRecord(value);
  const checks: AuditCheck[] = [];
  for (const name of ['input', 'output'] as const) {
    const got = sha256(files[name]);
    const want = record[name].sha256;
    checks.push({ name, ok: got === want, detail: got === want ? `sha256 ${got} matches` : `sha256 ${got} differs from the record's ${want}` });
  }
  if (record.hmac) {
    if (!options.secret) checks.push({ name: 'hmac', ok: false, detail: 'the record is signed but DOC_ANON_SECRET is not set: the HMAC was not checked' });
    else {
      const got = Buffer.from(recordHmac(record, options.secret), 'hex');
      const ok = timingSafeEqual(got, Buffer.from(record.hmac.value, 'hex'));
      checks.push({ name: 'hmac', ok, detail: ok ? 'HMAC-SHA256 valid: the record was not edited' : 'HMAC-SHA256 invalid: the record was edited, or made with another secret' });
    }
  } else {
    checks.push({ name: 'hmac', ok: !options.requireHmac, detail: 'the record is not signed (made without DOC_ANON_SECRET): its content could have been edited' });
  }
  return { ok: checks.every((c) => c.ok), checks, record };
}
