/** The built-in recognizers and the factory that builds the set a policy asks for. */
import type { EntityType } from '../types';
import { AccountNumberRecognizer } from './account';
import { AddressRecognizer } from './address';
import { BicRecognizer } from './bic';
import { CardRecognizer } from './card';
import { CustomRecognizer, type CustomRule } from './custom';
import { DateRecognizer } from './date';
import { EmailRecognizer } from './email';
import { IbanRecognizer } from './iban';
import { IdNumberRecognizer } from './idnumber';
import { MoneyRecognizer } from './money';
import { NationalIdRecognizer } from './nationalid';
import { OrganizationRecognizer } from './organization';
import { PersonRecognizer } from './person';
import { PhoneRecognizer } from './phone';
import { RoutingNumberRecognizer } from './routing';
import { SortCodeRecognizer } from './sortcode';
import { SsnRecognizer } from './ssn';
import type { Recognizer } from './types';

export type { Recognizer, RecognizerMatch } from './types';
export {
  AccountNumberRecognizer, AddressRecognizer, BicRecognizer, CardRecognizer, CustomRecognizer, DateRecognizer,
  EmailRecognizer, IbanRecognizer, IdNumberRecognizer, MoneyRecognizer, NationalIdRecognizer, OrganizationRecognizer, PersonRecognizer, PhoneRecognizer, RoutingNumberRecognizer,
  SortCodeRecognizer, SsnRecognizer,
};
export type { CustomRule };

/** Options of the built-in recognizers. */
export interface RecognizerOptions {
  /** Default regions for phone numbers without a country code. */
  phoneRegions?: readonly string[];
  /** Also report amounts without a currency that have exactly two decimals. */
  bareAmounts?: boolean;
  /** Custom rules. */
  customRules?: readonly CustomRule[];
  /** Only build recognizers producing these entity types (all when absent). */
  entities?: readonly EntityType[];
}

/** Builds the recognizers: the built-ins, then one per custom rule. */
export function createRecognizers(options: RecognizerOptions = {}): Recognizer[] {
  const all: Recognizer[] = [
    new EmailRecognizer(),
    new PhoneRecognizer(options.phoneRegions),
    new IbanRecognizer(),
    new BicRecognizer(),
    new CardRecognizer(),
    new SsnRecognizer(),
    new DateRecognizer(),
    new MoneyRecognizer(options.bareAmounts ?? true),
    new AccountNumberRecognizer(),
    new RoutingNumberRecognizer(),
    new SortCodeRecognizer(),
    new AddressRecognizer(),
    new PersonRecognizer(),
    new OrganizationRecognizer(),
    new IdNumberRecognizer(),
    new NationalIdRecognizer(),
    ...(options.customRules ?? []).map((r) => new CustomRecognizer(r)),
  ];
  const want = options.entities ? new Set(options.entities) : undefined;
  return want ? all.filter((r) => r.entities.some((e) => want.has(e))) : all;
}
