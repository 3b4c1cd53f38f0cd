/** The repository's fixtures are the files their SHA256SUMS lists, unchanged (a truncated copy or an LFS pointer fails here, not as a parity mismatch). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_FIXTURES } from '../helpers/fixtures';

const sums = fs
  .readFileSync(path.join(REPO_FIXTURES, 'SHA256SUMS'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [sha, file] = line.split(/\s+\*?/);
    return { sha, file: file.replace(/^\.\//, '') };
  });

it('lists every fixture file', () => {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(REPO_FIXTURES, path.join(dir, e.name))]));
  const listed = new Set(sums.map((s) => s.file));
  const unlisted = walk(REPO_FIXTURES).filter((f) => !listed.has(f) && f !== 'SHA256SUMS' && f !== 'PROVENANCE.md');
  expect(unlisted).toEqual([]);
});

it.each(sums.map((s) => [s.file, s.sha]))('%s has its recorded sha256', (file, sha) => {
  expect(createHash('sha256').update(fs.readFileSync(path.join(REPO_FIXTURES, file))).digest('hex')).toBe(sha);
});
