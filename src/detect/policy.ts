/**
 * The detection policy (a strict zod schema, unknown keys rejected): which entity types to replace,
 * which values or patterns to keep (e.g. the bank's own name and address), the minimum confidence,
 * custom rules, and recognizer options.
 */
import { z } from 'zod';
import { parseConfig } from '../core/config';
import { VALIDATORS } from './recognizers/custom';
import { BUILTIN_ENTITIES } from './types';

const ENTITY_NAME = /^[a-z][a-z0-9_]{0,39}$/;

function compiles(pattern: string, flags = ''): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

/** A custom rule: a regex (JavaScript syntax), an optional validator and the entity type it produces. */
export const CustomRuleSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    entity: z.string().regex(ENTITY_NAME, 'entity must be a lower-case identifier (a-z, 0-9, _)'),
    pattern: z.string().min(1).max(1000),
    flags: z.string().regex(/^[imsu]*$/, 'flags may only contain i, m, s, u').optional(),
    group: z.number().int().min(0).max(20).optional(),
    validator: z.enum(Object.keys(VALIDATORS) as [string, ...string[]]).optional(),
    context: z.array(z.string().min(1).max(100)).max(50).optional(),
    score: z.number().min(0).max(1).default(0.8),
    /** Leading characters kept as they are in the replacement (a fixed prefix such as "MBR-"). */
    keepPrefix: z.number().int().min(0).max(100).default(0),
  })
  .refine((r) => compiles(r.pattern, r.flags), { message: 'pattern is not a valid JavaScript regular expression', path: ['pattern'] })
  .refine((r) => !compiles(r.pattern, r.flags) || !new RegExp(r.pattern, r.flags).test(''), {
    message: 'pattern matches the empty string; make it require at least one character',
    path: ['pattern'],
  });

/**
 * How fakes agree with each other and with the page (each rule can be turned off alone; `coherent:
 * false` turns them all off and every value gets an independent fake, as before).
 */
export const FakesPolicySchema = z.strictObject({
  /** All the rules below (default true). */
  coherent: z.boolean().default(true),
  /**
   * The country of addresses, postcodes, phone numbers and IBANs: 'auto' (default) keeps each
   * value's own country (an IBAN's prefix, a phone's code, a postcode line's format and town; the
   * page's country where a value does not say); an ISO 3166 code moves every fake there.
   */
  country: z.union([z.literal('auto'), z.string().regex(/^[A-Z]{2}$/, 'country must be an ISO 3166 alpha-2 code such as DE')]).default('auto'),
  /** One synthetic person: every name token has one fake, and an email made of a name uses the fake name (default true). */
  persona: z.boolean().default(true),
  /** 'document' (default): every date moves by one offset (whole weeks: order, spacing and weekdays kept); 'per-value': each date by its own. */
  dateShift: z.enum(['document', 'per-value']).default('document'),
  /** How "05/03/2026" is read: 'auto' (default) from the page's other dates, then its country; or fixed. */
  dateOrder: z.enum(['auto', 'day-first', 'month-first']).default('auto'),
  /** Running balances of a statement are recomputed from the fake amounts, so they still add up (default true). */
  balances: z.boolean().default(true),
});
/** The fakes policy with defaults applied. */
export type FakesPolicy = z.output<typeof FakesPolicySchema>;

/** The detection policy. */
export const DetectionPolicySchema = z
  .strictObject({
    /** Entity types to replace: "all" or a list of built-in and custom entity names. */
    entities: z.union([z.literal('all'), z.array(z.string().regex(ENTITY_NAME)).min(1)]).default('all'),
    /** Entity types found but left as they are (applied after `entities`). */
    skipEntities: z.array(z.string().regex(ENTITY_NAME)).default([]),
    keep: z
      .strictObject({
        /** Exact values to keep wherever they occur (compared ignoring case and runs of whitespace). */
        values: z.array(z.string().min(1).max(500)).max(1000).default([]),
        /** Regexes (JavaScript syntax, matched case-insensitively against a whole detected value) to keep. */
        patterns: z
          .array(z.string().min(1).max(500).refine((p) => compiles(p, 'i'), 'not a valid regular expression'))
          .max(100)
          .default([]),
      })
      .default({ values: [], patterns: [] }),
    /** Detections below this confidence are not replaced. Keep it low: a missed value is a leak. */
    minConfidence: z.number().min(0).max(1).default(0.3),
    /**
     * Fail (ERR_OCR_NO_TEXT) when the OCR result reports that less than this fraction of the page's
     * ink lies inside word boxes (unread text such as a stamp or handwriting). 0 disables the check.
     */
    minInkCoverage: z.number().min(0).max(1).default(0),
    /**
     * Fallback regions (ISO 3166 alpha-2) for phone numbers written without a country code: tried
     * after the countries the page itself points to (IBAN and VAT prefixes, phone codes, country
     * names, postcodes, currency, label language); labelled numbers are tried in every region.
     */
    // Each region is one more parse of every phone-like candidate: bounded (ISO 3166 has under 250)
    // and deduplicated, so a request cannot make detection arbitrarily slow.
    phoneRegions: z
      .array(z.string().regex(/^[A-Z]{2}$/))
      .min(1)
      .max(64)
      .transform((r) => [...new Set(r)])
      .default(['US', 'GB']),
    /** Report amounts without a currency that have exactly two decimals (statement columns). */
    bareAmounts: z.boolean().default(true),
    customRules: z.array(CustomRuleSchema).max(200).default([]),
    /** How the fakes agree with each other and the page (see {@link FakesPolicySchema}). */
    fakes: FakesPolicySchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    const known = new Set<string>([...BUILTIN_ENTITIES, ...p.customRules.map((r) => r.entity)]);
    const check = (list: readonly string[], key: string): void => {
      list.forEach((e, i) => {
        if (!known.has(e)) {
          ctx.addIssue({
            code: 'custom',
            path: [key, i],
            message: `unknown entity "${e}"; use one of ${[...known].join(', ')} or add a custom rule for it`,
          });
        }
      });
    };
    if (p.entities !== 'all') check(p.entities, 'entities');
    check(p.skipEntities, 'skipEntities');
  });

/** A validated detection policy (defaults applied). */
export type DetectionPolicy = z.output<typeof DetectionPolicySchema>;
/** A detection policy as written in config (defaults optional). */
export type DetectionPolicyInput = z.input<typeof DetectionPolicySchema>;

/** Validates a policy (ERR_CONFIG naming every bad key); `{}` gives the defaults. */
export function parseDetectionPolicy(value: unknown = {}): DetectionPolicy {
  return parseConfig(DetectionPolicySchema, value, 'detection policy');
}

/** Normalises a value for keep-list comparison: case-folded, whitespace runs collapsed. */
export function normalizeKept(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Whether an entity type is replaced under the policy. */
export function entityEnabled(policy: DetectionPolicy, entity: string): boolean {
  if (policy.skipEntities.includes(entity)) return false;
  return policy.entities === 'all' || policy.entities.includes(entity);
}
