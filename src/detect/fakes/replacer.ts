/**
 * The Replacer: format-preserving fakes per entity type, consistent within a document (a cache)
 * and, with a secret, across documents (keyed HMAC derivation); never equal to the original and
 * never the same fake for two different originals of one Replacer.
 *
 * Coherent fakes (the policy's `fakes`, on by default): one synthetic persona (name tokens and the
 * emails made of them), one country per value's own country or the policy's (towns, postcodes,
 * phones, IBANs), one date shift per key in whole weeks with the page's day/month order, and
 * running balances recomputed from the fake amounts. {@link Replacer.prepare} gives the Replacer the
 * page it works on.
 */
import { DocAnonError, ErrorCode } from '../../core/errors';
import { countryHints } from '../country';
import { type FakesPolicy, FakesPolicySchema } from '../policy';
import { balanceFakes, type MoneyCell } from './balances';
import { Persona } from './persona';
import type { EntityType } from '../types';
import { fakeAddress } from './address';
import { fakeBic } from './bic';
import { fakeCard } from './card';
import { canonicalDate, type DateContext, dayFirstOf, fakeDate } from './date';
import { deobfuscateEmail } from '../recognizers/email';
import { fakeEmail } from './email';
import { fakeGeneric } from './generic';
import { fakeIban, fakeIbanIn } from './iban';
import { fakeIdNumber } from './idnumber';
import { fakeKey, keyedRng } from './keyed';
import { fakeMoney } from './money';
import { fakeNationalId } from './nationalid';
import { fakeOrganization } from './organization';
import { fakePerson } from './person';
import { fakePhone, fakePhoneIn } from './phone';
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
  /** How fakes agree with each other and the page (the detection policy's `fakes`; default: all rules on). */
  fakes?: Partial<FakesPolicy>;
}

type Generator = (original: string, rng: Rng, attempt: number) => string;

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
  /** The coherence rules in force. */
  readonly fakes: FakesPolicy;
  private readonly persona: Persona;
  private regions: readonly string[];
  private readonly defaultRegions: readonly string[];
  /** The page's country (its values' hints), when it has one. */
  private pageCountry: string | undefined;
  private dates: DateContext | undefined;
  private readonly offsetDays: number;

  constructor(options: ReplacerOptions = {}) {
    if (options.secret !== undefined && options.secret.length < 16) {
      throw new DocAnonError(ErrorCode.CONFIG, 'the replacement secret is shorter than 16 bytes; use at least 16 random bytes (e.g. `openssl rand -hex 32`)');
    }
    this.key = fakeKey(options.secret);
    this.fakes = FakesPolicySchema.parse(options.fakes ?? {});
    this.persona = new Persona(this.key);
    this.defaultRegions = options.phoneRegions ?? ['US', 'GB'];
    this.regions = this.defaultRegions;
    this.keepPrefix = options.keepPrefix ?? {};
    // One shift for every date of this key: whole weeks, so weekdays stay, 1 to 26 weeks either way.
    const shift = keyedRng(this.key, 'date-offset', '', 0);
    this.offsetDays = 7 * shift.range(1, 26) * (shift.int(2) === 0 ? -1 : 1);
    const coherent = this.fakes.coherent;
    const forced = this.fakes.country === 'auto' ? undefined : this.fakes.country;
    this.dates = coherent && this.fakes.dateShift === 'document' ? { offsetDays: this.offsetDays } : undefined;
    const letter = (r: Rng) => (upper: boolean): string => r.letter(upper);
    this.generators = {
      email: (o, r, attempt) =>
        coherent && this.fakes.persona && attempt === 0 ? fakeEmail(o, r, (local) => this.persona.localPart(local, () => r.digit(), letter(r))) : fakeEmail(o, r),
      phone: (o, r) => (coherent && forced ? fakePhoneIn(o, r, forced, this.regions) : fakePhone(o, r, this.regions)),
      iban: (o, r) => (coherent && forced ? fakeIbanIn(o, r, forced) : fakeIban(o, r)),
      bic: fakeBic,
      card: fakeCard,
      ssn: fakeSsn,
      date: (o, r) => fakeDate(o, r, this.dates),
      money: fakeMoney,
      routing_number: fakeRouting,
      address: (o, r) => (coherent ? fakeAddress(o, r, forced ?? 'auto', this.pageCountry) : fakeAddress(o, r)),
      person: (o, r, attempt) => (coherent && this.fakes.persona ? this.persona.person(o, attempt, letter(r)) : fakePerson(o, r)),
      organization: fakeOrganization,
      id_number: fakeIdNumber,
      national_id: (o, r) => fakeNationalId(o, r, 'national_id'),
      vat_id: (o, r) => fakeNationalId(o, r, 'vat_id'),
    };
  }

  /**
   * Tells the Replacer about the page it is replacing values on (call before `replace` for each
   * page; detection does): the page's country (from its IBANs, phone codes, postcodes, currency and
   * language) for the values that do not state their own, and which way its numeric dates are
   * written (`dates`: the date values found on it).
   */
  prepare(page: { text: string; dates?: readonly string[] }): void {
    if (!this.fakes.coherent) return;
    const forced = this.fakes.country === 'auto' ? undefined : this.fakes.country;
    const hints = countryHints(page.text, 3);
    this.pageCountry = forced ?? hints[0];
    this.regions = [...new Set([...(forced ? [forced] : []), ...hints, ...this.defaultRegions])];
    if (this.fakes.dateShift === 'document') {
      const order = this.fakes.dateOrder;
      const dayFirst = order === 'auto' ? dayFirstOf(page.dates ?? [], this.pageCountry) : order === 'day-first';
      this.dates = { offsetDays: this.offsetDays, dayFirst };
    }
  }

  /**
   * The fakes of the balance cells of a statement whose running balances add up (see
   * `balances.ts`): computed from the fake amounts so they still add up. Empty when the policy
   * turns the rule off or no balance column is found.
   */
  balanceFakes(cells: readonly MoneyCell[]): Map<number, string> {
    if (!this.fakes.coherent || !this.fakes.balances) return new Map();
    return balanceFakes(cells, (text) => this.replace('money', text));
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
    const gen: Generator = keep > 0 ? (o, r, a) => o.slice(0, keep) + base(o.slice(keep), r, a) : base;
    let fake = '';
    for (let attempt = 0; ; attempt++) {
      const rng = keyedRng(this.key, entity, canon, attempt);
      // Names stay made of words: past the attempts the others fall back to a shape-only fake.
      const words = entity === 'organization' || entity === 'person';
      fake = attempt < 24 || words ? gen(original, rng, attempt) : original.slice(0, keep) + fakeGeneric(original.slice(keep), rng);
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
