/** TensorBoard event files (src/tracking): written with protobufjs, read back with the same schema. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeImage } from '../../src/inference/image-io';
import { RunMetrics } from '../../src/tracking/run-metrics';
import { crc32c, readTensorBoardEvents, TensorBoardWriter } from '../../src/tracking/tensorboard';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-tb-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('CRC-32C matches the standard check value', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
});

it('writes scalars and an image summary that read back with the same schema', async () => {
  const w = new TensorBoardWriter(dir);
  expect(path.basename(w.file)).toMatch(/^events\.out\.tfevents\.\d+\./);
  w.addScalars(10, { 'eval/psnr': 21.5, 'eval/ssim': 0.75 });
  w.addScalar('train/loss', 0.125, 11);
  const pixels = new Uint8Array(4 * 3 * 3).map((_, i) => (i * 37) % 256);
  const png = await encodeImage({ data: pixels, width: 4, height: 3, channels: 3, format: 'png', lossless: true }, { format: 'png' });
  w.addImage('eval/samples', { png, width: 4, height: 3 }, 12);
  w.close();

  const raw = fs.readFileSync(w.file);
  // The first record is the file version event: field 3 (string), "brain.Event:2".
  expect(raw.includes(Buffer.concat([Buffer.from([0x1a, 13]), Buffer.from('brain.Event:2')]))).toBe(true);

  const events = readTensorBoardEvents(w.file);
  expect(events).toHaveLength(4);
  expect(events[0].fileVersion).toBe('brain.Event:2');
  expect(events[1].step).toBe(10);
  expect(events[1].summary?.value.map((v) => [v.tag, v.simpleValue])).toEqual([
    ['eval/psnr', 21.5],
    ['eval/ssim', Math.fround(0.75)],
  ]);
  expect(events[2]).toMatchObject({ step: 11, summary: { value: [{ tag: 'train/loss', simpleValue: 0.125 }] } });
  const img = events[3].summary?.value[0].image;
  expect(events[3].step).toBe(12);
  expect(img).toMatchObject({ width: 4, height: 3, colorspace: 3 });
  expect(Buffer.from(img!.encodedImageString).equals(png)).toBe(true);
  for (const e of events) expect(e.wallTime).toBeGreaterThan(1.6e9);
});

it('refuses a corrupted record', () => {
  const w = new TensorBoardWriter(dir);
  w.addScalar('a', 1, 1);
  w.close();
  const buf = fs.readFileSync(w.file);
  buf[buf.length - 6] ^= 0xff;
  fs.writeFileSync(w.file, buf);
  expect(() => readTensorBoardEvents(w.file)).toThrow(expect.objectContaining({ code: 'ERR_INPUT' }));
});

it('RunMetrics writes metrics.jsonl and the same scalars to TensorBoard', () => {
  const m = new RunMetrics(dir);
  m.scalars(5, 'eval', { psnr: 20, lpips: NaN });
  m.close();
  const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toEqual([expect.objectContaining({ step: 5, group: 'eval', psnr: 20, lpips: null })]);
  const [file] = fs.readdirSync(path.join(dir, 'tensorboard'));
  const events = readTensorBoardEvents(path.join(dir, 'tensorboard', file));
  expect(events[1].summary?.value.map((v) => v.tag)).toEqual(['eval/psnr', 'eval/lpips']);
  expect(events[1].summary?.value[1].simpleValue).toBeNaN();
});
