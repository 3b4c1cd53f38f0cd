/** Audit records of anonymizations: building, signing and checking them. */
export { AUDIT_RECORD_KIND, AUDIT_RECORD_VERSION, AuditRecordSchema, buildAuditRecord, canonicalJson, fileFormat, recordHmac } from './record';
export type { AuditInput, AuditRecord, EngineSettings } from './record';
export { parseAuditRecord, verifyAuditRecord } from './verify';
export type { AuditCheck, AuditVerification } from './verify';
export { anonymizerAudit } from './context';
