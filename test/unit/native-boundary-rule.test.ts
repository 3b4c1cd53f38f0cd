/**
 * Only the wrapper classes call the addon: src/core's Tensor, SafetensorsFile and runtime (the
 * basic types), src/models and src/training (docs/architecture.md, the boundary rule). Everything
 * else (inference, the CLI, the server, storage, detection) goes through them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', '..', 'src');
const ALLOWED = [/^core\/(tensor|safetensors|runtime)\.ts$/, /^models\//, /^training\//, /^native\//, /^index\.ts$/];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

it('calls the addon (native()) only from src/core/{tensor,safetensors,runtime}.ts, src/models and src/training', () => {
  const callers = files(SRC)
    .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
    .filter((rel) => /\bnative\(\)/.test(fs.readFileSync(path.join(SRC, rel), 'utf8')));
  expect(callers.length).toBeGreaterThan(3);
  expect(callers.filter((rel) => !ALLOWED.some((re) => re.test(rel)))).toEqual([]);
});
