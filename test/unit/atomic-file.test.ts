/** Whole-file writes: all or nothing, and an existing file that is not writable is not replaced. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeFileAtomic } from '../../src/core/atomic-file';
import { packageRoot } from '../../src/core/package-paths';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-atomic-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replaces a writable file and leaves no temp file', () => {
    const file = path.join(dir, 'out.png');
    fs.writeFileSync(file, 'old');
    writeFileAtomic(file, 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['out.png']);
  });

  it('refuses to replace a file it may not write (the rename would ignore the mode), and leaves it as it was', () => {
    const file = path.join(dir, 'read-only.png');
    fs.writeFileSync(file, 'keep me');
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o777); // the folder stays writable: only the file's mode says no
    // In a child process, as an ordinary user (root may write any file): the compiled module.
    const lib = path.join(packageRoot, 'lib', 'core', 'atomic-file.js');
    const asUser = process.getuid?.() === 0 ? 'process.setgid(65534); process.setuid(65534);' : '';
    const r = spawnSync(
      process.execPath,
      ['-e', `${asUser} try { require(${JSON.stringify(lib)}).writeFileAtomic(${JSON.stringify(file)}, 'new'); console.log('written'); } catch (e) { console.log(e.code + ': ' + e.message); }`],
      { encoding: 'utf8' },
    );
    expect(r.stdout).toMatch(/^ERR_IO: cannot write .* not writable/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    expect(fs.readdirSync(dir)).toEqual(['read-only.png']);
  });
});
