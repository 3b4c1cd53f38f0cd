import * as path from 'node:path';

/** The fixtures in the repository (test/fixtures: see its PROVENANCE.md). */
export const REPO_FIXTURES = path.join(__dirname, '..', 'fixtures');

/** Fixture root: DOC_ANON_FIXTURES (another root of the same layout), else the repository's own. */
export function fixturesRoot(): string {
  return path.resolve(process.env.DOC_ANON_FIXTURES ?? REPO_FIXTURES);
}

export function fixture(...parts: string[]): string {
  return path.join(fixturesRoot(), ...parts);
}
