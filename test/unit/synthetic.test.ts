import { isValidIBAN } from 'ibantools';
import sharp from 'sharp';
import { isDocAnonError } from '../../src/core/errors';
import { DocumentAnnotationSchema, parseDocumentAnnotation, quadFromRect } from '../../src/training/dataset-format';
import { formatIban, generateDocument, ibanMod97, isValidIbanChecksum, makeIban, Rng, IBAN_COUNTRIES } from '../../src/training/synthetic';

type Quad = [number, number][];
const bounds = (q: Quad) => ({
  x0: Math.min(...q.map((p) => p[0])),
  y0: Math.min(...q.map((p) => p[1])),
  x1: Math.max(...q.map((p) => p[0])),
  y1: Math.max(...q.map((p) => p[1])),
});

describe('synthetic documents', () => {
  it('is deterministic per seed and differs across seeds', async () => {
    const a = await generateDocument({ seed: 3, width: 600, height: 850 });
    const b = await generateDocument({ seed: 3, width: 600, height: 850 });
    const c = await generateDocument({ seed: 4, width: 600, height: 850 });
    expect(a.png.equals(b.png)).toBe(true);
    expect(a.annotation).toEqual(b.annotation);
    expect(a.png.equals(c.png)).toBe(false);
  });

  it.each(['statement', 'invoice', 'form'] as const)('renders a %s with exact, valid ground truth', async (kind) => {
    const doc = await generateDocument({ seed: 9, kind, width: 827, height: 1170 });
    expect(doc.kind).toBe(kind);
    const meta = await sharp(doc.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 827, 1170]);
    const ann = parseDocumentAnnotation(JSON.parse(JSON.stringify(doc.annotation)));
    expect(ann.document.length).toBeGreaterThan(10);
    const types = new Set(ann.entities.map((e) => e.type));
    for (const t of ['PERSON', 'DATE', 'IBAN', 'ADDRESS']) expect(types).toContain(t);
    const { data, info } = await sharp(doc.png).raw().toBuffer({ resolveWithObject: true });
    for (const line of ann.document) {
      expect(line.score).toBe(1);
      expect(line.words!.map((w) => w.text).join(' ')).toBe(line.text.trim().split(/\s+/).join(' '));
      const lb = bounds(line.box as Quad);
      for (const w of line.words!) {
        const wb = bounds(w.box as Quad);
        expect(wb.x0).toBeGreaterThanOrEqual(lb.x0 - 0.01);
        expect(wb.x1).toBeLessThanOrEqual(lb.x1 + 0.01);
        // Every word box holds ink that contrasts with the paper around it.
        let lo = 255;
        let hi = 0;
        for (let y = Math.ceil(wb.y0); y < Math.floor(wb.y1); y++) {
          for (let x = Math.ceil(wb.x0); x < Math.floor(wb.x1); x++) {
            const v = data[(y * info.width + x) * info.channels];
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
        expect(hi - lo).toBeGreaterThan(100);
      }
    }
    for (const e of ann.entities) {
      expect(ann.document[e.line].text.slice(e.start, e.end)).toBe(e.text);
      if (e.type === 'IBAN') {
        expect(isValidIBAN(e.text.replace(/ /g, ''))).toBe(true);
        expect(isValidIbanChecksum(e.text)).toBe(true);
      }
      const eb = bounds(e.box as Quad);
      const lb = bounds(ann.document[e.line].box as Quad);
      expect(eb.x0).toBeGreaterThanOrEqual(lb.x0 - 0.01);
      expect(eb.x1).toBeLessThanOrEqual(lb.x1 + 0.01);
      expect(eb.x1 - eb.x0).toBeGreaterThan(5);
    }
  });

  it('leaves no ink outside the line boxes and shapes on a clean white page', async () => {
    const doc = await generateDocument({ seed: 2, kind: 'form', width: 827, height: 1170 });
    const { data, info } = await sharp(doc.png).raw().toBuffer({ resolveWithObject: true });
    const boxes = doc.annotation.document.map((l) => bounds(l.box as Quad));
    let stray = 0;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const v = data[(y * info.width + x) * info.channels];
        if (v > 60) continue; // dark ink only (rules are grey)
        if (!boxes.some((b) => x >= b.x0 - 1 && x <= b.x1 + 1 && y >= b.y0 - 1 && y <= b.y1 + 1)) stray++;
      }
    }
    expect(stray).toBe(0);
  });

  it('rotates the boxes with the page and applies noise', async () => {
    const flat = await generateDocument({ seed: 6, kind: 'invoice', width: 827, height: 1170 });
    const rot = await generateDocument({ seed: 6, kind: 'invoice', width: 827, height: 1170, rotation: 3, noise: 4 });
    expect(rot.annotation.document.map((l) => l.text)).toEqual(flat.annotation.document.map((l) => l.text));
    const q = rot.annotation.document[0].box as Quad;
    // The top edge is tilted by 3 degrees.
    const angle = (Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]) * 180) / Math.PI;
    expect(angle).toBeCloseTo(3, 1);
    const stats = await sharp(rot.png).stats();
    expect(stats.channels[0].stdev).toBeGreaterThan(0);
  });

  it('refuses bad options with ERR_CONFIG', async () => {
    await expect(generateDocument({ seed: -1 })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await expect(generateDocument({ kind: 'letter' as never })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await expect(generateDocument({ colour: 1 } as never)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});

describe('IBANs', () => {
  it('generates valid IBANs for every country', () => {
    const rng = new Rng(1);
    for (const c of IBAN_COUNTRIES) {
      for (let i = 0; i < 20; i++) {
        const iban = makeIban(rng, c);
        expect(isValidIBAN(iban)).toBe(true);
        expect(ibanMod97(iban)).toBe(1);
      }
    }
    expect(formatIban('DE89370400440532013000')).toBe('DE89 3704 0044 0532 0130 00');
    expect(isValidIbanChecksum('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(isValidIbanChecksum('DE88 3704 0044 0532 0130 00')).toBe(false);
  });
});

describe('dataset format', () => {
  const line = { text: 'IBAN DE89', box: quadFromRect(0, 0, 90, 20), score: 0.9 };
  it('accepts the DiffUTE shape ({ document: [...] } only)', () => {
    expect(DocumentAnnotationSchema.safeParse({ document: [line] }).success).toBe(true);
  });
  it('rejects unknown keys, bad boxes and inconsistent entities with paths', () => {
    const bad = (v: unknown): string => {
      try {
        parseDocumentAnnotation(v, 'page.json');
      } catch (e) {
        if (isDocAnonError(e)) {
          expect(e.code).toBe('ERR_INPUT');
          return e.message;
        }
      }
      throw new Error('expected an error');
    };
    expect(bad({ document: [line], extra: 1 })).toMatch(/extra: unknown key/);
    expect(bad({ document: [{ ...line, box: [[0, 0], [1, 0], [1, 1]] }] })).toMatch(/document\.0\.box/);
    expect(bad({ document: [{ ...line, score: 1.5 }] })).toMatch(/document\.0\.score/);
    const entity = { type: 'IBAN', text: 'DE89', line: 0, start: 5, end: 9, box: line.box };
    expect(DocumentAnnotationSchema.safeParse({ document: [line], entities: [entity] }).success).toBe(true);
    expect(bad({ document: [line], entities: [{ ...entity, start: 4 }] })).toMatch(/entities\.0/);
    expect(bad({ document: [line], entities: [{ ...entity, line: 3 }] })).toMatch(/no line 3/);
    expect(bad({ document: [line], entities: [{ ...entity, type: 'SECRET' }] })).toMatch(/entities\.0\.type/);
  });
});
