/**
 * The OCR pool fails to start cleanly: bad language data is refused with ERR_OCR before any
 * tesseract.js worker exists (tesseract.js would throw it inside a worker message handler, which
 * ends the process), and when one worker of several fails to start, the ones that did are
 * terminated (they would keep the process alive).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { checkTraineddata, defaultLangPath, TesseractOcr } from '../../src/detect/ocr/tesseract';
import { renderLines } from '../helpers/render-text';

const page = renderLines(['Invoice 42'], { width: 300, height: 80 }).png;

describe('OCR pool start failures', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-ocr-start-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const writeLang = (name: string, gz: Buffer): string => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'eng.traineddata.gz'), gz);
    return d;
  };
  /** A table of contents with `entries` offsets (all -1 except those given), then `tail` bytes. */
  const toc = (entries: number, offsets: Record<number, number>, tail: number): Buffer => {
    const b = Buffer.alloc(4 + 8 * entries + tail);
    b.writeInt32LE(entries, 0);
    for (let i = 0; i < entries; i++) b.writeBigInt64LE(BigInt(offsets[i] ?? -1), 4 + 8 * i);
    return b;
  };

  it('accepts the shipped data and refuses broken files, naming the file', async () => {
    await expect(checkTraineddata(path.join(defaultLangPath(), 'eng.traineddata.gz'))).resolves.toBeUndefined();
    const cases: Array<[string, Buffer, RegExp]> = [
      ['junk', zlib.gzipSync(Buffer.from('not tesseract data at all')), /bad entry count/],
      // Not gzip: read as uncompressed data (Debian's files are), whatever the name says.
      ['not-gzip', Buffer.from('plain bytes'), /bad entry count/],
      ['raw-no-lstm', toc(24, { 3: 196 }, 100), /no LSTM model/],
      ['truncated', zlib.gzipSync(toc(24, { 17: 196 }, 100)).subarray(0, 30), /cannot read or decompress/],
      ['outside', zlib.gzipSync(toc(24, { 17: 5000 }, 100)), /entry 17 points outside/],
      ['no-lstm', zlib.gzipSync(toc(24, { 3: 196 }, 100)), /no LSTM model/],
    ];
    for (const [name, gz, why] of cases) {
      const file = path.join(writeLang(name, gz), 'eng.traineddata.gz');
      await expect(checkTraineddata(file)).rejects.toMatchObject({ code: 'ERR_OCR', message: expect.stringMatching(why) });
      await expect(checkTraineddata(file)).rejects.toMatchObject({ message: expect.stringContaining(file) });
    }
  });

  it('a TesseractOcr over broken data fails its reads with ERR_OCR and the process goes on', async () => {
    const ocr = new TesseractOcr({ workers: 1, langPath: writeLang('broken-pool', zlib.gzipSync(Buffer.from('garbage'))) });
    await expect(ocr.recognize(page)).rejects.toMatchObject({ code: 'ERR_OCR' });
    await expect(ocr.recognize(page)).rejects.toMatchObject({ code: 'ERR_OCR' });
    await ocr.close();
  });

  it('terminates the workers that started when another one fails to start', async () => {
    const terminated: number[] = [];
    let calls = 0;
    await jest.isolateModulesAsync(async () => {
      const real = jest.requireActual<typeof import('tesseract.js')>('tesseract.js');
      jest.doMock('tesseract.js', () => ({
        ...real,
        createWorker: async (...args: Parameters<typeof real.createWorker>) => {
          const n = ++calls;
          if (n % 2 === 0) throw new Error(`worker ${n} failed to start`);
          const w = await real.createWorker(...args);
          const terminate = w.terminate.bind(w);
          w.terminate = async () => {
            terminated.push(n);
            return terminate();
          };
          return w;
        },
      }));
      const { TesseractOcr: Isolated } = await import('../../src/detect/ocr/tesseract');
      const ocr = new Isolated({ workers: 2 });
      await expect(ocr.recognize(page)).rejects.toMatchObject({ code: 'ERR_OCR', message: expect.stringContaining('failed to start') });
      expect(terminated).toEqual([1]);
      await ocr.close();
    });
  });
});
