/** The synthetic document generator (see generator.ts). */
export { generateDocument, SyntheticOptionsSchema } from './generator';
export type { SyntheticAnnotation, SyntheticDocument, SyntheticOptions } from './generator';
export { DOCUMENT_KINDS } from './templates';
export type { DocumentKind } from './templates';
export { makeIban, formatIban, ibanMod97, isValidIbanChecksum, IBAN_COUNTRIES } from './iban';
export { Rng } from './random';
