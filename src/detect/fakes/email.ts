/**
 * Fake email addresses: the local part's words become names of the same length and case, digits
 * stay digits, separators stay; the domain's labels become words of the same length, except the
 * top-level domain and the large public providers (gmail.com, ...) which are kept. Obfuscated
 * addresses keep their separators; Unicode letters are replaced like ASCII ones.
 */
import { FIRST_NAMES, LAST_NAMES, PLACE_WORDS } from '../wordlists';
import type { Rng } from './rng';
import { OBFUSCATED_AT, OBFUSCATED_DOT } from '../recognizers/email';
import { matchCase, pickSimilarLength, shapeFake } from './shape';

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
  if (model.length <= 2) return model.replace(/\p{L}/gu, (c) => rng.letter(c === c.toUpperCase()));
  const w = pickSimilarLength(list, model.length, rng, model);
  return matchCase(model, w);
}

/** Replaces the letter and digit runs of a local part: names for words, digits for digits. */
function fakeLocal(local: string, rng: Rng): string {
  let runs = 0;
  return local.replace(/\p{L}+|\p{N}+/gu, (r) => {
    if (/^\p{N}/u.test(r)) return r.replace(/\p{N}/gu, () => rng.digit());
    return word(runs++ === 0 ? FIRST_NAMES : LAST_NAMES, r, rng);
  });
}

/** A domain label of the same shape: punycode labels keep their "xn--" prefix. */
function fakeLabel(label: string, rng: Rng): string {
  if (/^xn--/i.test(label)) return label.slice(0, 4) + shapeFake(label.slice(4), rng);
  return label.replace(/\p{L}+/gu, (r) => word(PLACE_WORDS.concat(LAST_NAMES), r, rng)).replace(/\p{N}/gu, () => rng.digit());
}

/**
 * A plausible email address of the same format. Obfuscated addresses ("name at domain dot org",
 * "name [at] domain.org") keep their spelled-out or bracketed separators.
 */
export function fakeEmail(original: string, rng: Rng, localPart?: (local: string) => string | undefined): string {
  let at = original.lastIndexOf('@');
  let atLen = 1;
  const obf = OBFUSCATED_AT.exec(original);
  if (obf && (at < 0 || /[\[({<]/.test(obf[0]))) {
    at = obf.index;
    atLen = obf[0].length;
  }
  const local = original.slice(0, at);
  const domain = original.slice(at + atLen);
  // Domain labels with their separators (".", " dot ", "[.]") kept in place.
  const seps: string[] = [];
  const labels = domain.split(new RegExp(`(${OBFUSCATED_DOT.source}|\\.)`)).filter((part, i) => {
    if (i % 2 === 1) seps.push(part);
    return i % 2 === 0;
  });
  const plainDomain = labels.join('.').toLowerCase();
  const fakeLabels = PROVIDERS.has(plainDomain) ? labels : labels.map((l, i) => (isSuffix(labels, i) ? l : fakeLabel(l, rng)));
  let fakeDomain = fakeLabels[0];
  for (let i = 1; i < fakeLabels.length; i++) fakeDomain += seps[i - 1] + fakeLabels[i];
  // A local part made of a name of the document follows that name's fake (the persona).
  return (localPart?.(local) ?? fakeLocal(local, rng)) + original.slice(at, at + atLen) + fakeDomain;
}
