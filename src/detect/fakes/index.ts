/** Replacement generation: format-preserving, checksum-valid, keyed-consistent fakes. */
export { Replacer, canonicalValue } from './replacer';
export type { ReplacerOptions } from './replacer';
export { fakeAddress } from './address';
export { fakeBic } from './bic';
export { fakeCard } from './card';
export { fakeDate } from './date';
export { fakeEmail } from './email';
export { fakeGeneric } from './generic';
export { fakeIban } from './iban';
export { fakeIdNumber } from './idnumber';
export { fakeOrganization } from './organization';
export { fakeMoney } from './money';
export { fakePerson } from './person';
export { fakePhone } from './phone';
export { fakeRouting } from './routing';
export { fakeSsn } from './ssn';
export { Rng } from './rng';
export { keyedRng } from './keyed';
