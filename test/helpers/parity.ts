/**
 * The setup the parity tests share (as diffusers' tester mixins): a fixture folder's reference
 * tensors (`<fixture>/io.safetensors`, written by diffusers / transformers / lpips) opened once per
 * file, the model under test loaded once from the same root, both freed after the file's tests, and
 * the comparison of every stored gradient. Sizes come from the files, so another fixture root of
 * the same layout (DOC_ANON_FIXTURES) runs unchanged.
 */
import * as fs from 'node:fs';
import { SafetensorsFile, type Tensor } from '../../src';
import { expectClose } from './compare';
import { fixture } from './fixtures';

export interface ParityFixture<M> {
  /** The model under test (valid inside the tests, after beforeAll). */
  readonly model: M;
  /** The reference file. */
  readonly io: SafetensorsFile;
  /** A reference tensor by name. */
  T(name: string): Promise<Tensor>;
  /** Whether the reference file holds `name`. */
  has(name: string): boolean;
  /** The reference file's tensor names starting with `prefix`. */
  keys(prefix?: string): string[];
}

/**
 * Registers beforeAll/afterAll that open `fixture(name, ioFile)` and load the model with `load`
 * (given the fixture folder), and free both afterwards.
 */
export function parityFixture<M extends { dispose(): void } | undefined = undefined>(
  name: string,
  load?: (dir: string) => Promise<M>,
  ioFile = 'io.safetensors',
): ParityFixture<M> {
  let model: M | undefined;
  let io: SafetensorsFile | undefined;
  const opened = (): SafetensorsFile => {
    if (!io) throw new Error(`the ${name} parity fixture is used outside its tests (before beforeAll)`);
    return io;
  };
  beforeAll(async () => {
    io = await SafetensorsFile.open(fixture(name, ioFile));
    if (load) model = await load(fixture(name));
  });
  afterAll(() => {
    model?.dispose();
    io?.close();
  });
  return {
    get model(): M {
      return model as M;
    },
    get io(): SafetensorsFile {
      return opened();
    },
    T: (n) => opened().load(n),
    has: (n) => opened().entry(n) !== undefined,
    keys: (prefix = '') => opened().keys().filter((k) => k.startsWith(prefix)),
  };
}

/** A fixture's JSON file (config.json, schedulers.json, ...), Python's -Infinity read as null. */
export function fixtureJson<J>(...parts: string[]): J {
  return JSON.parse(fs.readFileSync(fixture(...parts), 'utf8').replace(/-Infinity/g, 'null')) as J;
}

/**
 * Every `grad.<parameter>` of the reference equals the model's gradient of that parameter
 * (after a backward pass); there is at least one.
 */
export async function expectGradientsMatch(
  fx: ParityFixture<unknown>,
  grad: (parameter: string) => Tensor | null,
  atol = 1e-7,
  rtol = 1e-4,
): Promise<void> {
  const names = fx.keys('grad.');
  expect(names.length).toBeGreaterThan(0);
  for (const e of names) {
    const g = grad(e.slice('grad.'.length));
    expect({ e, present: g !== null }).toEqual({ e, present: true });
    expectClose(e, g as Tensor, await fx.T(e), atol, rtol);
  }
}
