/**
 * Fake email addresses: the local part's words become names of the same length and case, digits
 * stay digits, separators stay; the domain's labels become words of the same length, except the
 * top-level domain and the large public providers (gmail.com, ...) which are kept.
 */
import { FIRST_NAMES, LAST_NAMES, PLACE_WORDS } from '../wordlists';
import type { Rng } from './rng';
import { matchCase, pickSimilarLength } from './shape';

const PROVIDERS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'yahoo.com', 'icloud.com', 'me.com',
  'aol.com', 'gmx.de', 'gmx.net', 'web.de', 'proton.me', 'protonmail.com', 'mail.com', 'yandex.ru',
]);

// Second-level labels of public suffixes ("co.uk", "com.au") stay with the top-level domain.
const SLD = new Set(['co', 'com', 'org', 'net', 'ac', 'gov', 'edu', 'ltd', 'plc', 'nhs', 'sch', 'me', 'or', 'ne', 'go']);

function isSuffix(labels: readonly string[], i: number): boolean {
  if (i === labels.length - 1) return true;
  return i === labels.length - 2 && labels.length >= 3 && SLD.has(labels[i].toLowerCase());
}

function word(list: readonly string[], model: string, rng: Rng): string {
  if (model.length <= 2) return model.replace(/[A-Za-z]/g, (c) => rng.letter(c === c.toUpperCase()));
  const w = pickSimilarLength(list, model.length, rng, model);
  return matchCase(model, w);
}

/** A plausible email address of the same format. */
export function fakeEmail(original: string, rng: Rng): string {
  const at = original.lastIndexOf('@');
  const local = original.slice(0, at);
  const domain = original.slice(at + 1);
  let runs = 0;
  const fakeLocal = local.replace(/[A-Za-z]+|\d+/g, (r) => {
    if (/^\d/.test(r)) return r.replace(/\d/g, () => rng.digit());
    return word(runs++ === 0 ? FIRST_NAMES : LAST_NAMES, r, rng);
  });
  let fakeDomain = domain;
  if (!PROVIDERS.has(domain.toLowerCase())) {
    const labels = domain.split('.');
    fakeDomain = labels
      .map((l, i) => (isSuffix(labels, i) ? l : l.replace(/[A-Za-z]+/g, (r) => word(PLACE_WORDS.concat(LAST_NAMES), r, rng))))
      .join('.');
  }
  return `${fakeLocal}@${fakeDomain}`;
}
