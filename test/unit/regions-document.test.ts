/**
 * The regions document's schema (strict, versioned, numbered pages, the deprecated bare array), its
 * JSON Schema file (committed, and equal to the one the zod schema gives), and the audit record's
 * HMAC (canonical JSON: any edit changes it, key order does not).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, recordHmac } from '../../src/audit/record';
import { errorText } from '../helpers/cli';
import { pageRegions, parseRegionsDocument, parseRegionsInput, regionsDocumentJsonSchema, toRegionsDocument } from '../../src/inference/regions-document';

const SCHEMA_FILE = path.join(__dirname, '..', '..', 'schemas', 'regions-document.v1.schema.json');

const doc = (): Record<string, unknown> => ({
  kind: 'doc-anon/regions',
  version: 1,
  pages: [{ page: 1, width: 100, height: 50, regions: [{ box: [1, 2, 30, 20], entity: 'person', replacement: 'Jane Roe', recognizer: 'person', confidence: 0.9, group: 0 }] }],
});

describe('regions document', () => {
  it('the committed JSON Schema is the one the zod schema gives (UPDATE_SCHEMAS=1 rewrites it)', () => {
    const text = `${JSON.stringify(regionsDocumentJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_SCHEMAS === '1') fs.writeFileSync(SCHEMA_FILE, text);
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(text);
    const schema = JSON.parse(text);
    expect(schema.properties.kind).toEqual({ type: 'string', const: 'doc-anon/regions' });
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.pages.items.properties.regions.items.properties).sort()).toEqual(
      ['box', 'confidence', 'entity', 'group', 'keep', 'original', 'recognizer', 'replacement'],
    );
  });

  it('reads a document with defaults (keep false, orientation 0) and gives the Anonymizer its regions', () => {
    const d = parseRegionsDocument(doc());
    expect(d.pages[0]).toMatchObject({ orientation: 0, regions: [{ keep: false }] });
    expect(pageRegions(d.pages[0])).toEqual([{ box: [1, 2, 30, 20], replacement: 'Jane Roe', entity: 'person', recognizer: 'person', confidence: 0.9, group: 0 }]);
    const kept = parseRegionsDocument({ ...doc(), pages: [{ page: 1, width: 100, height: 50, regions: [{ box: [1, 2, 30, 20], replacement: '', keep: true }] }] });
    expect(pageRegions(kept.pages[0])).toEqual([{ box: [1, 2, 30, 20], replacement: '', keep: true }]);
  });

  it('refuses unknown keys, bad boxes, misnumbered pages and other versions with ERR_INPUT naming the path', () => {
    const d = doc() as { pages: Array<{ regions: Array<Record<string, unknown>> }> };
    d.pages[0].regions[0].kepp = true;
    expect(errorText(() => parseRegionsDocument(d))).toMatch(/^ERR_INPUT: invalid regions document:\ndocument\.pages\.0\.regions\.0: unknown key\(s\) kepp/);
    expect(errorText(() => parseRegionsDocument({ ...doc(), pages: [{ page: 1, width: 100, height: 50, regions: [{ box: [30, 2, 1, 20], replacement: 'x' }] }] }))).toMatch(
      /document\.pages\.0\.regions\.0\.box: the box is \[x0, y0, x1, y1\] with x0 < x1/,
    );
    expect(errorText(() => parseRegionsDocument({ ...doc(), pages: [{ page: 2, width: 1, height: 1, regions: [] }] }))).toMatch(/document\.pages\.0\.page: pages are numbered 1, 2/);
    expect(errorText(() => parseRegionsDocument({ ...doc(), version: 2 }))).toMatch(/^ERR_INPUT: regions document version 2 is not one/);
    expect(errorText(() => parseRegionsDocument(doc(), { maxRegions: 0 }))).toMatch(/^ERR_INPUT: page 1 of the regions document has 1 regions, over the limit of 0/);
    expect(errorText(() => parseRegionsInput('regions'))).toMatch(/^ERR_INPUT: regions must be a regions document/);
  });

  it('still reads the bare array of { box, replacement } (deprecated)', () => {
    expect(parseRegionsInput([{ box: [1, 2, 3, 4], replacement: 'x' }])).toEqual({ legacy: [{ box: [1, 2, 3, 4], replacement: 'x' }] });
    expect(errorText(() => parseRegionsInput([{ box: [1, 2, 3, 4] }]))).toMatch(/^ERR_INPUT: invalid regions:\nregions\.0\.replacement/);
  });

  it('writes what detection found (originals only when they were asked for)', () => {
    const d = toRegionsDocument({ type: 'image', format: 'png' }, [
      { width: 100, height: 50, orientation: 90, regions: [{ box: [1, 2, 30, 20], replacement: 'A', entity: 'iban', confidence: 0.5, recognizer: 'iban', group: 3 }] },
    ]);
    expect(parseRegionsDocument(JSON.parse(JSON.stringify(d)))).toEqual(d);
    expect(d.pages[0].regions[0]).toEqual({ box: [1, 2, 30, 20], entity: 'iban', replacement: 'A', confidence: 0.5, recognizer: 'iban', group: 3, keep: false });
  });
});

describe('audit record HMAC', () => {
  it('is computed over canonical JSON: key order does not change it, any edit does', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }], u: undefined })).toBe('{"a":[{"c":"x","d":2}],"b":1}');
    const rec = { kind: 'doc-anon/audit', version: 1, decisions: [{ page: 1, decision: 'replaced', replacement: 'Jane' }] } as never;
    const h = recordHmac(rec, 'a-secret-of-16-chars');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(recordHmac({ decisions: [{ replacement: 'Jane', decision: 'replaced', page: 1 }], version: 1, kind: 'doc-anon/audit' } as never, 'a-secret-of-16-chars')).toBe(h);
    expect(recordHmac({ ...(rec as object), decisions: [{ page: 1, decision: 'kept', replacement: 'Jane' }] } as never, 'a-secret-of-16-chars')).not.toBe(h);
    expect(recordHmac(rec, 'another-secret-of-16')).not.toBe(h);
  });
});
