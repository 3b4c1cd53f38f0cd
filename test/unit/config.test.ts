import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { DocAnonError, loadConfigFile, parseConfig } from '../../src';

const Schema = z.strictObject({
  model: z.strictObject({ resolution: z.number().int().positive(), name: z.string() }),
  train: z.strictObject({ lr: z.number().positive(), steps: z.number().int().positive().default(10) }),
});

describe('config validation', () => {
  it('accepts a valid config and applies defaults', () => {
    const c = parseConfig(Schema, { model: { resolution: 512, name: 'x' }, train: { lr: 1e-4 } });
    expect(c.train.steps).toBe(10);
  });

  it('rejects unknown keys with their path', () => {
    let err: unknown;
    try {
      parseConfig(Schema, { model: { resolution: 512, name: 'x', resolutoin: 3 }, train: { lr: 1 }, extra: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DocAnonError);
    expect((err as DocAnonError).code).toBe('ERR_CONFIG');
    expect((err as DocAnonError).message).toContain('model.resolutoin: unknown key');
    expect((err as DocAnonError).message).toContain('extra: unknown key');
  });

  it('names wrongly typed values', () => {
    expect(() => parseConfig(Schema, { model: { resolution: '512', name: 'x' }, train: { lr: 1 } })).toThrow(/model\.resolution/);
  });

  it('loads YAML files and rejects duplicate keys and parse errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-cfg-'));
    const good = path.join(dir, 'good.yaml');
    fs.writeFileSync(good, 'model:\n  resolution: 64\n  name: tiny\ntrain:\n  lr: 0.001\n');
    expect(loadConfigFile(Schema, good).model.resolution).toBe(64);
    const dup = path.join(dir, 'dup.yaml');
    fs.writeFileSync(dup, 'model:\n  resolution: 64\n  resolution: 65\n  name: tiny\ntrain:\n  lr: 0.001\n');
    expect(() => loadConfigFile(Schema, dup)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    const misplaced = path.join(dir, 'misplaced.yaml');
    fs.writeFileSync(misplaced, 'model:\n  resolution: 64\n  name: tiny\n  lr: 0.1\ntrain:\n  lr: 0.001\n');
    expect(() => loadConfigFile(Schema, misplaced)).toThrow(/model\.lr: unknown key/);
    expect(() => loadConfigFile(Schema, path.join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'ERR_IO' }));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
