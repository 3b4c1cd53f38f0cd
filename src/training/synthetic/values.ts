/**
 * Fake values for synthetic documents (names, organizations, addresses, dates, amounts, phone
 * numbers, e-mails, reference numbers). Small built-in lists and a seeded Rng: deterministic and
 * fully offline. All characters are drawable by the bundled fonts.
 */
import type { Rng } from './random';

const FIRST = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Daniel', 'Nancy',
  'Matthew', 'Lisa', 'Anthony', 'Margaret', 'Mark', 'Sandra', 'Paul', 'Ashley', 'Steven', 'Emily', 'Andrew', 'Donna',
  'Kenneth', 'Michelle', 'Joshua', 'Carol', 'Kevin', 'Amanda', 'Brian', 'Melissa', 'George', 'Deborah', 'Oliver',
  'Sophie', 'Lukas', 'Hannah', 'Felix', 'Clara', 'Pierre', 'Camille', 'Marco', 'Giulia', 'Pablo', 'Lucia',
];
const LAST = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White',
  'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Green', 'Baker',
  'Adams', 'Nelson', 'Hill', 'Campbell', 'Mitchell', 'Roberts', 'Carter', 'Phillips', 'Evans', 'Turner', 'Parker',
  'Schmidt', 'Fischer', 'Weber', 'Wagner', 'Becker', 'Dubois', 'Moreau', 'Rossi', 'Bianchi', 'Fernandez', 'Jansen',
];
const STREET = [
  'Main Street', 'Oak Avenue', 'Maple Road', 'Cedar Lane', 'Park Avenue', 'Elm Street', 'High Street', 'Church Road',
  'Mill Lane', 'Station Road', 'Victoria Road', 'Green Lane', 'Kingsway', 'Bridge Street', 'Lake Drive', 'Hill Road',
  'River Street', 'Sunset Boulevard', 'Forest Way', 'Harbor View',
];
const CITY = [
  ['Springfield', '62704'], ['Riverside', '92501'], ['Fairview', '37062'], ['Madison', '53703'], ['Georgetown', '78626'],
  ['Clinton', '52732'], ['Salem', '97301'], ['Franklin', '37064'], ['Bristol', 'BS1 4DJ'], ['Oxford', 'OX1 2JD'],
  ['Hamburg', '20095'], ['Munich', '80331'], ['Lyon', '69002'], ['Utrecht', '3511'], ['Valencia', '46001'],
];
const ORG_A = ['North', 'Blue', 'Silver', 'Summit', 'Pioneer', 'Harbor', 'Granite', 'Evergreen', 'Atlas', 'Crescent', 'Union', 'First'];
const ORG_B = ['Bank', 'Savings Bank', 'Credit Union', 'Trust', 'Logistics', 'Consulting', 'Supplies', 'Systems', 'Foods', 'Energy', 'Media', 'Insurance'];
const ORG_SUFFIX = ['Ltd', 'Inc', 'GmbH', 'LLC', 'plc', 'S.A.', 'B.V.', 'Co.'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const GOODS = [
  'Office chairs', 'Printer paper A4', 'Consulting hours', 'Laptop stand', 'Software licence', 'Delivery fee',
  'Cleaning service', 'Network cables', 'Desk lamps', 'Maintenance contract', 'Training session', 'Coffee beans',
  'Storage boxes', 'Monitor 27 inch', 'Keyboard and mouse', 'Web hosting', 'Travel expenses', 'Design work',
];
const PAYMENT = ['Card payment', 'Transfer to', 'Direct debit', 'Standing order', 'Transfer from', 'Cash withdrawal'];

/** A person's full name. */
export function personName(rng: Rng): string {
  const first = rng.pick(FIRST);
  return rng.chance(0.15) ? `${first} ${rng.letters(1)}. ${rng.pick(LAST)}` : `${first} ${rng.pick(LAST)}`;
}

/** An organization name. */
export function organization(rng: Rng, bank = false): string {
  const b = bank ? rng.pick(['Bank', 'Savings Bank', 'Credit Union', 'Trust']) : rng.pick(ORG_B);
  return `${rng.pick(ORG_A)} ${b}${rng.chance(0.6) ? ` ${rng.pick(ORG_SUFFIX)}` : ''}`;
}

/** A street line and a city line. */
export function address(rng: Rng): { street: string; city: string } {
  const [city, zip] = rng.pick(CITY);
  return { street: `${rng.int(1, 250)} ${rng.pick(STREET)}`, city: /^\d/.test(zip) ? `${zip} ${city}` : `${city} ${zip}` };
}

/** Date formats used on pages. */
export type DateStyle = 'dmy-dot' | 'iso' | 'mdy-slash' | 'text';

/** A date between 2019 and 2025 in `style`. */
export function date(rng: Rng, style: DateStyle): string {
  const y = rng.int(2019, 2025);
  const m = rng.int(1, 12);
  const d = rng.int(1, 28);
  const p = (n: number): string => String(n).padStart(2, '0');
  switch (style) {
    case 'dmy-dot':
      return `${p(d)}.${p(m)}.${y}`;
    case 'iso':
      return `${y}-${p(m)}-${p(d)}`;
    case 'mdy-slash':
      return `${p(m)}/${p(d)}/${y}`;
    default:
      return `${d} ${MONTHS[m - 1]} ${y}`;
  }
}

/** A money amount with thousands separators and 2 decimals, e.g. "-1,234.50". */
export function amount(rng: Rng, max = 5000, signed = false): string {
  const v = rng.float(1, max);
  const s = v.toFixed(2);
  const [int, dec] = s.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${signed && rng.chance(0.6) ? '-' : ''}${grouped}.${dec}`;
}

/** Formats a number as an amount. */
export function formatAmount(v: number): string {
  const s = Math.abs(v).toFixed(2);
  const [int, dec] = s.split('.');
  return `${v < 0 ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

/** A phone number. */
export function phone(rng: Rng): string {
  return rng.pick([
    () => `+1 ${rng.digits(3)} ${rng.digits(3)} ${rng.digits(4)}`,
    () => `+44 ${rng.digits(4)} ${rng.digits(6)}`,
    () => `+49 ${rng.digits(3)} ${rng.digits(7)}`,
    () => `(${rng.digits(3)}) ${rng.digits(3)}-${rng.digits(4)}`,
  ])();
}

/** An e-mail address for a name. */
export function email(rng: Rng, name: string): string {
  const parts = name.toLowerCase().replace(/[^a-z ]/g, '').split(' ').filter(Boolean);
  const user = parts.length > 1 ? `${parts[0]}.${parts[parts.length - 1]}` : parts[0] ?? 'user';
  return `${user}@${rng.pick(['example.com', 'mail.example.org', 'example.net'])}`;
}

/** A reference number such as an invoice or customer number. */
export function reference(rng: Rng, prefix: string): string {
  return `${prefix}-${rng.int(2019, 2025)}-${rng.digits(5)}`;
}

/** A line item description. */
export function goods(rng: Rng): string {
  return rng.pick(GOODS);
}

/** A bank transaction label. */
export function paymentLabel(rng: Rng): string {
  return rng.pick(PAYMENT);
}
