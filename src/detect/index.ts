/** The detection layer: OCR, recognizers, policy, replacements, detection and verification. */
export * from './types';
export * from './ocr';
export * from './recognizers';
export * from './fakes';
export { DetectionPolicySchema, CustomRuleSchema, parseDetectionPolicy } from './policy';
export type { DetectionPolicy, DetectionPolicyInput } from './policy';
export { detectPii, findEntities } from './detect';
export type { DetectedRegion, DetectOptions, FoundEntity } from './detect';
export { verifyNoOriginals, assertNoOriginals } from './verify';
export type { VerifyOptions, VerifyResult, VerifyTarget } from './verify';
export { buildPageText } from './text';
export type { PageText, WordRef } from './text';
export { spanToSegments } from './spans';
export type { SpanSegment } from './spans';
export { luhnValid, abaValid, ibanCheckDigits } from './checksums';
export { parseDate, formatDate } from './dates';
