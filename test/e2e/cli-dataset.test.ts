/**
 * `doc-anon dataset import` end to end (main() in process, as the binary runs it): a tiny FUNSD
 * folder imports, the JSON report goes to stdout and the output folder holds the dataset files;
 * bad usage and bad input exit 2 with the error code on stderr.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli';
import { parseDocumentAnnotation, quadFromRect } from '../../src/training/dataset-format';

const run = runCli;

describe('doc-anon dataset import', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-cli-dataset-'));
    fs.mkdirSync(path.join(dir, 'funsd', 'images'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'funsd', 'annotations'), { recursive: true });
    await sharp({ create: { width: 50, height: 40, channels: 3, background: 'white' } }).png().toFile(path.join(dir, 'funsd', 'images', 'p1.png'));
    const form = [
      { id: 0, text: 'Total:', box: [2, 3, 30, 12], label: 'question', words: [{ text: 'Total:', box: [2, 3, 30, 12] }], linking: [[0, 1]] },
      { id: 1, text: '', box: [32, 3, 48, 12], label: 'answer', words: [], linking: [[0, 1]] },
    ];
    fs.writeFileSync(path.join(dir, 'funsd', 'annotations', 'p1.json'), JSON.stringify({ form }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports a FUNSD folder and prints the report as JSON', async () => {
    const out = path.join(dir, 'out');
    const r = await run(['dataset', 'import', '--format', 'funsd', '--in', path.join(dir, 'funsd'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/imported 1 pages, 1 lines/);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ format: 'funsd', pages: 1, lines: 1, skipped: { emptyText: 1 } });
    const a = parseDocumentAnnotation(JSON.parse(fs.readFileSync(path.join(out, 'p1.json'), 'utf8')));
    expect(a.document[0]).toMatchObject({ text: 'Total:', box: quadFromRect(2, 3, 30, 12) });
    expect(fs.existsSync(path.join(out, 'p1.png'))).toBe(true);
  });

  it('--help prints the usage; bad usage and bad input exit 2 with the code', async () => {
    const help = await run(['dataset', 'import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--format funsd|xfund');
    expect((await run(['--help'])).stdout).toMatch(/dataset\s+import FUNSD/);
    const noFormat = await run(['dataset', 'import', '--in', dir, '--out', path.join(dir, 'x')]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('ERR_ARGUMENT');
    const badFlag = await run(['dataset', 'import', '--format', 'funsd', '--bogus']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('ERR_ARGUMENT');
    const badVerb = await run(['dataset', 'export']);
    expect(badVerb.code).toBe(2);
    const missing = await run(['dataset', 'import', '--format', 'xfund', '--in', path.join(dir, 'none.json'), '--out', path.join(dir, 'x')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ERR_NOT_FOUND');
  });
});
