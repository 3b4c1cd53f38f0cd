/**
 * The Replacer: format-preserving fakes per entity type, consistent within a document (a cache)
 * and, with a secret, across documents (keyed HMAC derivation); never equal to the original and
 * never the same fake for two different originals of one Replacer.
 */
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { EntityType } from '../types';
import { fakeAddress } from './address';
import { fakeBic } from './bic';
import { fakeCard } from './card';
import { canonicalDate, fakeDate } from './date';
import { deobfuscateEmail } from '../recognizers/email';
import { fakeEmail } from './email';
import { fakeGeneric } from './generic';
import { fakeIban } from './iban';
import { fakeIdNumber } from './idnumber';
import { fakeKey, keyedRng } from './keyed';
import { fakeMoney } from './money';
import { fakeNationalId } from './nationalid';
import { fakeOrganization } from './organization';
import { fakePerson } from './person';
import { fakePhone } from './phone';
import type { Rng } from './rng';
import { fakeRouting } from './routing';
import { compactAlnum } from './shape';
import { fakeSsn } from './ssn';

/** Options of a {@link Replacer}. */
export interface ReplacerOptions {
  /**
   * Secret key for cross-document consistency: with the same secret, a value gets the same fake in
   * every document. Without it, a random key is drawn per Replacer (consistent within it only).
   * Keep it secret: whoever has it can test guesses of original values against fakes.
   */
  secret?: string | Uint8Array;
  /** Default phone regions, as in the detection policy. */
  phoneRegions?: readonly string[];
  /** Per entity type, leading characters kept as they are (custom rules' `keepPrefix`). */
  keepPrefix?: Readonly<Record<string, number>>;
}

type Generator = (original: string, rng: Rng) => string;

const COMPACT = new Set(['iban', 'bic', 'card', 'ssn', 'account_number', 'routing_number', 'sort_code', 'national_id', 'vat_id']);

/** Canonical form of a value: equal canonical forms get the same underlying fake. */
export function canonicalValue(entity: EntityType, original: string): string {
  if (COMPACT.has(entity)) return compactAlnum(original);
  if (entity === 'phone') return original.replace(/[^\d+]/g, '');
  if (entity === 'date') return canonicalDate(original);
  // "name at domain dot org" and "name@domain.org" are one address.
  if (entity === 'email') return deobfuscateEmail(original.normalize('NFKC')).toLowerCase();
  return original.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Generates and remembers replacements for detected values. */
export class Replacer {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();
  private readonly owners = new Map<string, string>();
  private readonly generators: Record<string, Generator>;
  private readonly keepPrefix: Readonly<Record<string, number>>;

  constructor(options: ReplacerOptions = {}) {
    if (options.secret !== undefined && options.secret.length < 16) {
      throw new DocAnonError(ErrorCode.CONFIG, 'the replacement secret is shorter than 16 bytes; use at least 16 random bytes (e.g. `openssl rand -hex 32`)');
    }
    this.key = fakeKey(options.secret);
    const regions = options.phoneRegions ?? ['US', 'GB'];
    this.keepPrefix = options.keepPrefix ?? {};
    this.generators = {
      email: fakeEmail,
      phone: (o, r) => fakePhone(o, r, regions),
      iban: fakeIban,
      bic: fakeBic,
      card: fakeCard,
      ssn: fakeSsn,
      date: fakeDate,
      money: fakeMoney,
      routing_number: fakeRouting,
      address: fakeAddress,
      person: fakePerson,
      organization: fakeOrganization,
      id_number: fakeIdNumber,
      national_id: (o, r) => fakeNationalId(o, r, 'national_id'),
      vat_id: (o, r) => fakeNationalId(o, r, 'vat_id'),
    };
  }

  /**
   * The replacement for `original` of type `entity` (custom entity types get a shape-preserving
   * fake). The same (entity, original) always returns the same replacement from this Replacer.
   */
  replace(entity: EntityType, original: string): string {
    const cacheKey = `${entity}\u0000${original}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) return hit;
    if (!/[A-Za-z0-9]/.test(original)) {
      throw new DocAnonError(ErrorCode.INPUT, `cannot make a ${entity} replacement for a value without letters or digits`);
    }
    const canon = canonicalValue(entity, original);
    const keep = Math.min(this.keepPrefix[entity] ?? 0, original.length);
    const base = this.generators[entity] ?? fakeGeneric;
    const gen: Generator = keep > 0 ? (o, r) => o.slice(0, keep) + base(o.slice(keep), r) : base;
    let fake = '';
    for (let attempt = 0; ; attempt++) {
      const rng = keyedRng(this.key, entity, canon, attempt);
      fake = attempt < 24 ? gen(original, rng) : original.slice(0, keep) + fakeGeneric(original.slice(keep), rng);
      const fc = canonicalValue(entity, fake);
      const owner = this.owners.get(`${entity}\u0000${fc}`);
      if (fc !== canon && fake !== original && (owner === undefined || owner === canon)) {
        this.owners.set(`${entity}\u0000${fc}`, canon);
        break;
      }
      if (attempt > 64) {
        throw new DocAnonError(ErrorCode.INTERNAL, `could not make a ${entity} replacement different from the original; report this as a bug`);
      }
    }
    this.cache.set(cacheKey, fake);
    return fake;
  }
}
