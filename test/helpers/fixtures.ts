import * as path from 'node:path';

/** Fixture root: DOC_ANON_FIXTURES, else ../shared/fixtures next to the project. */
export function fixturesRoot(): string {
  return path.resolve(process.env.DOC_ANON_FIXTURES ?? path.join(__dirname, '..', '..', '..', 'shared', 'fixtures'));
}

export function fixture(...parts: string[]): string {
  return path.join(fixturesRoot(), ...parts);
}
