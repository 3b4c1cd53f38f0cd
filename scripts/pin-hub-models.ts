/**
 * Maintainers: pins the known models of `doc-anon models pull` (src/models/hub-registry.ts) to the
 * commit their repository's `main` names now, with the sha256 of every file we load, and writes
 * src/models/hub-pins.json. Needs the Hub (or HF_ENDPOINT) and, for gated repositories, HF_TOKEN.
 * Review the diff before committing it: a pin is a statement that these bytes are the model.
 *   node -r ./bench/register-ts.js scripts/pin-hub-models.ts [name ...]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hubAccessFromEnv, pinModel } from '../src/models/hub-pull';
import { KNOWN_MODELS, parsePullSpec, shippedPins, type HubPin } from '../src/models/hub-registry';

async function main(): Promise<void> {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(KNOWN_MODELS);
  const pins: Record<string, HubPin> = { ...shippedPins() };
  for (const name of names) {
    if (!KNOWN_MODELS[name]) throw new Error(`${name} is not a known model (${Object.keys(KNOWN_MODELS).join(', ')})`);
    const pin = await pinModel(parsePullSpec(`${name}@main`, {}), hubAccessFromEnv());
    pins[name] = pin;
    process.stderr.write(`${name}: ${KNOWN_MODELS[name]!.repo}@${pin.revision} (${Object.keys(pin.files).length} files)\n`);
  }
  const file = path.join(__dirname, '..', 'src', 'models', 'hub-pins.json');
  fs.writeFileSync(file, `${JSON.stringify(pins, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}\n`);
  process.exit(1);
});
