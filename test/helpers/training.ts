/** Helpers for the training tests: the shipped local configs with small overrides. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { parseUnetTrainConfig, parseVaeTrainConfig, type UnetTrainConfig, type VaeTrainConfig } from '../../src/training/config';

const dir = path.join(__dirname, '..', '..', 'configs', 'training');

function merge(a: any, b: any): any {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
  return out;
}

export function localVaeConfig(overrides: object = {}): VaeTrainConfig {
  return parseVaeTrainConfig(merge(YAML.parse(fs.readFileSync(path.join(dir, 'vae.local.yaml'), 'utf8')), overrides));
}

export function localUnetConfig(overrides: object = {}): UnetTrainConfig {
  return parseUnetTrainConfig(merge(YAML.parse(fs.readFileSync(path.join(dir, 'unet.local.yaml'), 'utf8')), overrides));
}
