/**
 * The review page in a real browser: Debian's chromium (apt-get install chromium; `CHROMIUM=path`
 * for another) driven by playwright-core, against `doc-anon serve`'s own page on loopback. A
 * generated statement is opened, the expected regions are shown, one region is deleted and a box
 * added (and moved) with the mouse, a value kept from the keyboard, the run returns a page where the
 * deleted and the kept regions' originals are still there and the added box is replaced, and a PDF
 * pages through. Every request stays on the server (no
 * CDN). Screenshots of each step go to test-output/review-page/node<major>/ (DOC_ANON_SCREENSHOTS
 * for another folder; git ignores test-output/).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TesseractOcr } from '../../src/detect/ocr/tesseract';
import { Anonymizer } from '../../src/inference/anonymizer';
import { createServer, type DocAnonServer } from '../../src/server/server';
import { generateDocument, type SyntheticDocument } from '../../src/training/synthetic';
import { norm, pageText } from '../helpers/server-client';
import { textPdf } from '../helpers/text-pdf';

const ROOT = path.join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.DOC_ANON_SCREENSHOTS ?? path.join(ROOT, 'test-output', 'review-page', `node${process.versions.node.split('.')[0]}`);
// What Chromium needs on these machines: no sandbox as root, no GPU, and none of its background
// connections (refused here, and nothing the page needs).
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface DocRegion {
  box: [number, number, number, number];
  entity: string;
  original?: string;
  replacement: string;
}

describe('review page (chromium)', () => {
  let ocr: TesseractOcr;
  let anonymizer: Anonymizer;
  let server: DocAnonServer;
  let base: string;
  let browser: Browser;
  let page: Page;
  let doc: SyntheticDocument;
  let dir: string;
  const requests: string[] = [];
  let step = 0;
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(SHOTS, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
    // The page as this checkout's sources build it.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-web.cjs')], { stdio: 'inherit' });
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-page-'));
    ocr = new TesseractOcr({ workers: 2 });
    anonymizer = await Anonymizer.create({ limits: { maxPixels: 4_000_000, maxRegions: 64 }, detection: { secret: 'review-page-secret-0123456789' } }, { ocr });
    server = await createServer({ port: 0, limits: { maxPixels: 4_000_000, maxRegions: 64 } }, { anonymizer, logger: pino({ level: 'silent' }) });
    base = await server.listen();
    doc = await generateDocument({ seed: 3, kind: 'statement', width: 900, height: 700 });
    fs.writeFileSync(path.join(dir, 'statement.png'), doc.png);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => requests.push(`pageerror: ${e.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    anonymizer?.dispose();
    await ocr?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (step > 0) process.stdout.write(`[review page] screenshots in ${SHOTS}\n`);
  });

  /** The screen point of a page pixel on the overlay. */
  const at = async (x: number, y: number): Promise<{ x: number; y: number }> => {
    const b = (await page.locator('#overlay').boundingBox())!;
    return { x: b.x + (x * b.width) / 900, y: b.y + (y * b.height) / 700 };
  };

  it('shows the regions, takes a deleted and an added box by mouse, and anonymizes accordingly', async () => {
    // What detection finds (with originals): the page must show exactly these.
    const m = new FormData();
    m.append('image', new Blob([doc.png], { type: 'image/png' }));
    m.append('options', new Blob([JSON.stringify({ includeOriginal: true })], { type: 'application/json' }));
    const expected = ((await (await fetch(`${base}/v1/detect`, { method: 'POST', body: m })).json()) as { pages: Array<{ regions: DocRegion[] }> }).pages[0].regions;
    expect(expected.length).toBeGreaterThanOrEqual(10);

    await page.goto(`${base}/`);
    await shot('opened');
    await page.setInputFiles('#file', path.join(dir, 'statement.png'));
    await page.getByText(/region\(s\) found on 1 page\(s\)/).waitFor({ timeout: 90_000 });
    await expect(page.locator('#regions li')).toHaveCountOf(expected.length);
    const legend = await page.locator('#legend li').allTextContents();
    expect(legend).toEqual([...new Set(expected.map((r) => r.entity))].sort());
    await shot('detected');

    // Delete a date of the transactions by mouse: click it on the page, then "Delete region".
    const words = (await ocr.recognize(doc.png)).lines.flatMap((l) => l.words);
    const once = (t: string): boolean => words.filter((w) => norm(w.text) === norm(t)).length === 1;
    const victim = expected.find((r) => r.entity === 'date' && r.original && once(r.original) && r.box[1] > 250)!;
    expect(victim).toBeDefined();
    const c = await at((victim.box[0] + victim.box[2]) / 2, (victim.box[1] + victim.box[3]) / 2);
    await page.mouse.click(c.x, c.y);
    await expect(page.locator('#editor-title')).toHaveTextOf('date');
    await page.click('#delete');
    await page.getByText(/deleted: left as it is/).waitFor();
    await shot('date-deleted');

    // Add a box by dragging over a word no region covers, and give it a replacement.
    const overlapping = (a: number[], b: number[]): boolean => Math.min(a[2], b[2]) > Math.max(a[0], b[0]) && Math.min(a[3], b[3]) > Math.max(a[1], b[1]);
    const word = words.find((w) => /^[A-Za-z]{6,}$/.test(w.text) && once(w.text) && !expected.some((r) => overlapping(r.box, w.box)))!;
    expect(word).toBeDefined();
    const from = await at(word.box[0] - 3, word.box[1] - 3);
    const to = await at(word.box[2] + 3, word.box[3] + 3);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await expect(page.locator('#editor-title')).toHaveTextOf('Added box');
    await page.fill('#replacement', 'Zqwert');
    await expect(page.locator('#regions li')).toHaveCountOf(expected.length + 1);
    // Move it by dragging: two page pixels to the right (it still covers the word).
    const mid = await at((word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2);
    const right = await at((word.box[0] + word.box[2]) / 2 + 2, (word.box[1] + word.box[3]) / 2);
    await page.mouse.move(mid.x, mid.y);
    await page.mouse.down();
    await page.mouse.move(right.x, right.y, { steps: 3 });
    await page.mouse.up();
    await shot('box-added');

    // Keep a value: select a person from the list (keyboard) and tick "Keep this value".
    const person = expected.find((r) => r.entity === 'person' && r.original && once(r.original.split(' ')[0]))!;
    const index = expected.indexOf(person);
    await page.locator('#regions li button').nth(index).focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('#editor-title')).toHaveTextOf('person');
    await page.check('#keep');
    await expect(page.locator('#regions li button').nth(index)).toHaveTextOf('kept as it is');

    await page.click('#run');
    await page.locator('#compare').waitFor({ state: 'visible', timeout: 120_000 });
    await shot('before-after');
    expect(await page.locator('#verified').textContent()).toMatch(/^\(verified/);

    // The downloads: the result and its report, as the page offers them.
    const grab = async (sel: string): Promise<string> =>
      page.evaluate(async (href) => {
        const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
        let bin = '';
        for (const b of bytes) bin += String.fromCharCode(b);
        return btoa(bin);
      }, (await page.locator(sel).getAttribute('href'))!);
    const result = Buffer.from(await grab('#download'), 'base64');
    const report = JSON.parse(Buffer.from(await grab('#download-report'), 'base64').toString('utf8'));
    expect(await page.locator('#download').getAttribute('download')).toBe('statement.anon.png');
    expect(report).toMatchObject({ kind: 'doc-anon/audit', via: 'http', verified: true, regions: { source: 'document' } });
    const kept = report.decisions.filter((d: { decision: string }) => d.decision === 'kept').map((d: { entity: string }) => d.entity);
    expect(kept.sort()).toEqual(['date', 'person']);
    const added = report.decisions.find((d: { recognizer?: string }) => d.recognizer === 'manual');
    expect(added).toMatchObject({ decision: 'replaced', replacement: 'Zqwert' });
    // Drawn 3 px around the word, then moved 2 px right (screen rounding: a pixel either way).
    expect(Math.abs(added.box[0] - (word.box[0] - 1))).toBeLessThanOrEqual(1);
    expect(Math.abs(added.box[1] - (word.box[1] - 3))).toBeLessThanOrEqual(1);

    // Read back: the deleted date is still there, the added word is not, and the rest is replaced.
    const after = pageText(await ocr.recognize(result));
    expect(after).toContain(norm(victim.original!));
    expect(after).toContain(norm(person.original!));
    expect(after).not.toContain(norm(word.text));
    const replaced = expected.filter((r) => r !== victim && r !== person && r.original && norm(r.original).length >= 6 && once(r.original));
    expect(replaced.length).toBeGreaterThan(3);
    expect(replaced.filter((r) => after.includes(norm(r.original!))).map((r) => r.entity)).toEqual([]);
  });

  it('pages through a PDF, its regions drawn per page', async () => {
    fs.writeFileSync(path.join(dir, 'two.pdf'), textPdf([['Account holder: Mary Johnson'], ['IBAN: GB82 WEST 1234 5698 7654 32']]));
    await page.setInputFiles('#file', path.join(dir, 'two.pdf'));
    await page.getByText(/region\(s\) found on 2 page\(s\)/).waitFor({ timeout: 90_000 });
    await expect(page.locator('#page-label')).toHaveTextOf('Page 1 of 2');
    expect(await page.locator('#legend li').allTextContents()).toEqual(['person']);
    await shot('pdf-page-1');
    await page.click('#next');
    await expect(page.locator('#page-label')).toHaveTextOf('Page 2 of 2');
    expect(await page.locator('#legend li').allTextContents()).toEqual(['iban']);
    // Keyboard: select the region from the list, widen it (Alt+Right) and move it (Shift+Right: 10 px).
    await page.locator('#regions li button').first().focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('#editor-title')).toHaveTextOf('iban');
    await page.locator('#overlay').focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('Alt+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await shot('pdf-page-2');
    await page.click('#run');
    await page.locator('#compare').waitFor({ state: 'visible', timeout: 120_000 });
    expect(await page.locator('#download').getAttribute('download')).toBe('two.anon.pdf');
    const report = JSON.parse(
      await page.evaluate(async (href) => (await fetch(href)).text(), (await page.locator('#download-report').getAttribute('href'))!),
    ) as { decisions: Array<{ page: number; box: number[]; entity: string }> };
    const detected = ((await (await fetch(`${base}/v1/detect`, { method: 'POST', body: fs.readFileSync(path.join(dir, 'two.pdf')), headers: { 'content-type': 'application/pdf' } })).json()) as {
      pages: Array<{ regions: Array<{ box: number[] }> }>;
    }).pages[1].regions[0].box;
    const moved = report.decisions.find((d) => d.page === 2)!;
    expect(moved.box).toEqual([detected[0] + 10, detected[1], detected[2] + 14, detected[3]]);
    await shot('pdf-before-after');
  });

  it('asked nothing of anywhere but its own server', () => {
    const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
  });
});

// Matchers that wait (polling) until a locator has `n` elements or a text: no fixed sleeps.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      toHaveCountOf(n: number): Promise<R>;
      toHaveTextOf(text: string): Promise<R>;
    }
  }
}

expect.extend({
  async toHaveCountOf(locator: { count(): Promise<number> }, n: number) {
    let got = -1;
    for (let i = 0; i < 100; i++) {
      got = await locator.count();
      if (got === n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { pass: got === n, message: () => `expected ${n} elements, found ${got}` };
  },
  async toHaveTextOf(locator: { textContent(): Promise<string | null> }, text: string) {
    let got: string | null = null;
    for (let i = 0; i < 100; i++) {
      got = await locator.textContent();
      if (got?.includes(text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { pass: !!got?.includes(text), message: () => `expected text containing ${JSON.stringify(text)}, got ${JSON.stringify(got)}` };
  },
});
