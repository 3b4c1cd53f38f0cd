/**
 * The DiffUTE pipeline folder (models/diffute-pipeline.ts): a folder of the fixture models with a
 * model_index.json loads as one pipeline whose settings and scheduler reach the engine; a folder
 * without scheduler/ samples with SD2-inpainting's; a missing or invalid index and a missing
 * component are coded errors naming the file (never a bare ENOENT); a UNet training checkpoint is
 * such a folder (the Anonymizer and `anonymize --engine diffute --model <checkpoint>` load it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Anonymizer, DiffutePipeline, MODEL_INDEX, writeModelIndex } from '../../src';
import { DiffuteEngine } from '../../src/inference/engines/diffute';
import { SD2_SCHEDULER_CONFIG } from '../../src/models/scheduler';
import { checkpointsRoot } from '../../src/training/checkpoint';
import { UnetTrainer } from '../../src/training/unet-trainer';
import { runCli } from '../helpers/cli';
import { fixture } from '../helpers/fixtures';
import { localUnetConfig } from '../helpers/training';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docanon-pipeline-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A pipeline folder of the fixture models (linked, not copied); `scheduler`: the fixture's DDIM config. */
function fixtureFolder(name: string, o: { parts?: string[]; scheduler?: boolean } = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const part of o.parts ?? ['unet', 'vae', 'glyph_encoder']) fs.symlinkSync(fixture(part), path.join(dir, part));
  if (o.scheduler) {
    fs.mkdirSync(path.join(dir, 'scheduler'));
    fs.copyFileSync(fixture('pipeline', 'scheduler_config.json'), path.join(dir, 'scheduler', 'scheduler_config.json'));
  }
  return dir;
}

const settings = { maskedFill: 0, resolution: 24, conditioning: 'glyph' as const };

/** The code and message of what `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a rejection');
}

describe('DiffutePipeline.fromPretrained', () => {
  it('loads a folder of unet/, vae/, glyph_encoder/, scheduler/ and model_index.json; its settings and scheduler reach the engine; save() writes a folder that loads back', async () => {
    const dir = fixtureFolder('full', { scheduler: true });
    await writeModelIndex(dir, { schedulerClass: 'DDIMScheduler', glyphProjection: false, settings });
    const index = JSON.parse(fs.readFileSync(path.join(dir, MODEL_INDEX), 'utf8'));
    expect(index).toMatchObject({ _class_name: 'DiffutePipeline', unet: ['diffusers', 'UNet2DConditionModel'], glyph_projection: [null, null], masked_fill: 0, resolution: 24 });

    const p = await DiffutePipeline.fromPretrained(dir);
    try {
      expect(p.unet.config.cross_attention_dim).toBe(32);
      expect(p.vae.downsampleFactor).toBe(2);
      expect(p.glyphProjection).toBeUndefined();
      expect(p.scheduler.className).toBe('DDIMScheduler');
      expect(JSON.parse(p.scheduler.configText).beta_end).toBe(0.012);
      expect(p.settings).toEqual({ maskedFill: 0, resolution: 24, conditioning: 'glyph', glyphAligned: 'none', aspect: 1, guidanceScale: 1 });
      const engine = new DiffuteEngine(p);
      expect([engine.options.maskedFill, engine.options.resolution]).toEqual([0, 24]);
      engine.dispose();
      // Options still win over the pipeline's settings.
      const own = new DiffuteEngine(p, { maskedFill: -1, resolution: 32 });
      expect([own.options.maskedFill, own.options.resolution]).toEqual([-1, 32]);
      own.dispose();

      const copy = path.join(tmp, 'saved');
      await p.save(copy);
      for (const f of [MODEL_INDEX, 'unet/config.json', 'vae/config.json', 'glyph_encoder/config.json', 'scheduler/scheduler_config.json']) expect(fs.existsSync(path.join(copy, f))).toBe(true);
      const q = await DiffutePipeline.fromPretrained(copy);
      expect([q.scheduler.className, q.settings]).toEqual([p.scheduler.className, p.settings]);
      expect(q.unet.parameters().map((x) => x.name)).toEqual(p.unet.parameters().map((x) => x.name));
      q.dispose();
    } finally {
      p.dispose();
    }
  });

  it('a folder without scheduler/ samples with SD2-inpainting\'s scheduler (with or without an index); without an index, DiffUTE\'s settings', async () => {
    const bare = fixtureFolder('no-scheduler');
    const p = await DiffutePipeline.fromPretrained(bare);
    expect(JSON.parse(p.scheduler.configText)).toEqual(JSON.parse(JSON.stringify(SD2_SCHEDULER_CONFIG)));
    expect(p.settings).toEqual({ maskedFill: -1, resolution: undefined, conditioning: 'glyph', glyphAligned: 'none', aspect: 1, guidanceScale: 1 });
    p.dispose();
    const indexed = fixtureFolder('no-scheduler-indexed');
    await writeModelIndex(indexed, { schedulerClass: 'DDPMScheduler', glyphProjection: false, settings });
    const q = await DiffutePipeline.fromPretrained(indexed);
    expect(JSON.parse(q.scheduler.configText)).toEqual(JSON.parse(JSON.stringify(SD2_SCHEDULER_CONFIG)));
    q.dispose();
  });

  it('a missing or invalid model_index.json, a missing component or scheduler file: a coded error naming the file, not ENOENT', async () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    const check = async (label: string, dir: string, code: string, names: string): Promise<void> => {
      const f = await failure(DiffutePipeline.fromPretrained(dir));
      expect({ label, code: f.code, names: f.message.includes(names), enoent: /ENOENT/.test(f.message) }).toEqual({ label, code, names: true, enoent: false });
    };
    // No index and no components: both are named.
    await check('empty folder', empty, 'ERR_NOT_FOUND', path.join(empty, MODEL_INDEX));
    await check('empty folder (unet)', empty, 'ERR_NOT_FOUND', path.join(empty, 'unet'));
    await check('no such folder', path.join(tmp, 'nowhere'), 'ERR_NOT_FOUND', path.join(tmp, 'nowhere'));

    const notJson = fixtureFolder('not-json');
    fs.writeFileSync(path.join(notJson, MODEL_INDEX), '{ "_class_name": ');
    await check('index not JSON', notJson, 'ERR_CONFIG', path.join(notJson, MODEL_INDEX));

    const wrongClass = fixtureFolder('wrong-class');
    fs.writeFileSync(path.join(wrongClass, MODEL_INDEX), JSON.stringify({ _class_name: 'StableDiffusionInpaintPipeline', unet: ['diffusers', 'UNet2DConditionModel'] }));
    await check('index of another pipeline', wrongClass, 'ERR_CONFIG', path.join(wrongClass, MODEL_INDEX));

    const noVae = fixtureFolder('no-vae', { parts: ['unet', 'glyph_encoder'] });
    await writeModelIndex(noVae, { schedulerClass: 'DDPMScheduler', glyphProjection: false, settings });
    await check('vae/ missing', noVae, 'ERR_NOT_FOUND', path.join(noVae, 'vae'));

    const noProjection = fixtureFolder('no-projection');
    await writeModelIndex(noProjection, { schedulerClass: 'DDPMScheduler', glyphProjection: true, settings });
    await check('glyph_projection/ named, missing', noProjection, 'ERR_NOT_FOUND', path.join(noProjection, 'glyph_projection'));

    const emptyScheduler = fixtureFolder('empty-scheduler');
    fs.mkdirSync(path.join(emptyScheduler, 'scheduler'));
    await check('scheduler/ without its file', emptyScheduler, 'ERR_NOT_FOUND', path.join(emptyScheduler, 'scheduler', 'scheduler_config.json'));

    // The same through the Anonymizer and the CLI (exit 2, one coded line, no stack).
    await expect(Anonymizer.create({ engine: 'diffute', model: noVae })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const png = path.join(tmp, 'blank.png');
    fs.writeFileSync(png, await sharp({ create: { width: 64, height: 48, channels: 3, background: '#ffffff' } }).png().toBuffer());
    const regions = path.join(tmp, 'blank.regions.json');
    fs.writeFileSync(regions, JSON.stringify([{ box: [4, 4, 40, 20], replacement: 'Jane Roe' }]));
    const r = await runCli(['anonymize', png, '--out', path.join(tmp, 'never.png'), '--engine', 'diffute', '--model', empty, '--regions', regions, '--no-verify']);
    expect(r.stderr).toContain(`ERR_NOT_FOUND: ${path.join(empty, 'unet')} is missing`);
    expect(r.stderr).not.toMatch(/ENOENT|internal error|\n\s+at /);
    expect(r.code).toBe(2);
  });

  it('a UNet training checkpoint is a pipeline folder: the Anonymizer and `anonymize --engine diffute --model <checkpoint>` load it', async () => {
    const trainer = await UnetTrainer.create(localUnetConfig({ train: { max_steps: 1, batch_size: 1 } }));
    const ckpt = await trainer.saveCheckpoint(checkpointsRoot(path.join(tmp, 'run')));
    trainer.dispose();
    for (const f of [MODEL_INDEX, 'unet/config.json', 'vae/config.json', 'glyph_encoder/config.json', 'scheduler/scheduler_config.json', 'README.md']) {
      expect({ f, there: fs.existsSync(path.join(ckpt, f)) }).toEqual({ f, there: true });
    }
    const p = await DiffutePipeline.fromPretrained(ckpt);
    // The run's settings: configs/training/unet.local.yaml's loss.masked_fill and data.resolution.
    expect(p.settings).toEqual({ maskedFill: -1, resolution: 32, conditioning: 'glyph', glyphAligned: 'none', aspect: 1, guidanceScale: 1 });
    p.dispose();

    const a = await Anonymizer.create({ engine: 'diffute', model: ckpt, diffute: { steps: 1 } });
    a.dispose();

    const png = path.join(tmp, 'page.png');
    fs.writeFileSync(png, await sharp({ create: { width: 96, height: 64, channels: 3, background: '#ffffff' } }).png().toBuffer());
    const regions = path.join(tmp, 'regions.json');
    fs.writeFileSync(regions, JSON.stringify([{ box: [8, 8, 80, 30], replacement: 'Jane Roe' }]));
    const out = path.join(tmp, 'page.out.png');
    const report = path.join(tmp, 'page.json');
    const r = await runCli(['anonymize', png, '--out', out, '--report', report, '--regions', regions, '--engine', 'diffute', '--model', ckpt, '--steps', '1', '--no-verify']);
    expect({ code: r.code, errors: r.stderr.match(/ERR_\w+|ENOENT|internal error/g) }).toEqual({ code: 0, errors: null });
    expect(r.stderr).toMatch(/anonymized 1 region\(s\) on 1 page\(s\)/);
    const rep = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(rep.engine).toBe('diffute');
    expect(rep.pages[0].regions.map((x: { replacement: string }) => x.replacement)).toEqual(['Jane Roe']);
  });
});
