/**
 * The `--nproc` launcher with stand-in rank scripts (no training): the torchrun environment each
 * rank gets, a failing rank stopping the others, and a signal to the launcher reaching every rank
 * as SIGTERM with the launcher waiting for them (exit 130 when they stopped, not "failed"). The
 * signal is emitted on this process, where the launcher's handler is installed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnRanks } from '../../src/training/launch';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spawn-ranks-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Writes a rank script: it runs `body` (e.g. installs its handlers), then records its environment
 * in `<dir>/rank-<RANK>.json`, which also says it is ready for a signal.
 */
function rankScript(name: string, body: string): string {
  const file = path.join(tmp, `${name}.js`);
  fs.writeFileSync(
    file,
    `const fs = require('fs');
const dir = process.argv[2];
const e = process.env;
${body}
fs.writeFileSync(dir + '/rank-' + e.RANK + '.json', JSON.stringify({ RANK: e.RANK, LOCAL_RANK: e.LOCAL_RANK, WORLD_SIZE: e.WORLD_SIZE, LOCAL_WORLD_SIZE: e.LOCAL_WORLD_SIZE, MASTER_ADDR: e.MASTER_ADDR, MASTER_PORT: e.MASTER_PORT }));
`,
  );
  return file;
}

/** Resolves once every rank has written its file (running, handlers installed). */
async function ranksStarted(dir: string, n: number): Promise<void> {
  const t0 = Date.now();
  while (fs.readdirSync(dir).filter((f) => f.startsWith('rank-')).length < n) {
    if (Date.now() - t0 > 20_000) throw new Error('ranks did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function runDir(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  return dir;
}

describe('spawnRanks (--nproc)', () => {
  it("gives each rank torchrun's environment and exits 0 when all do", async () => {
    const dir = runDir('ok');
    expect(await spawnRanks({ nproc: 3, args: [dir], entry: rankScript('ok', '') })).toBe(0);
    const envs = [0, 1, 2].map((r) => JSON.parse(fs.readFileSync(path.join(dir, `rank-${r}.json`), 'utf8')));
    expect(envs.map((e) => [e.RANK, e.LOCAL_RANK, e.WORLD_SIZE, e.LOCAL_WORLD_SIZE, e.MASTER_ADDR])).toEqual([
      ['0', '0', '3', '3', '127.0.0.1'],
      ['1', '1', '3', '3', '127.0.0.1'],
      ['2', '2', '3', '3', '127.0.0.1'],
    ]);
    expect(new Set(envs.map((e) => e.MASTER_PORT)).size).toBe(1);
    expect(Number(envs[0].MASTER_PORT)).toBeGreaterThan(0);
  });

  it("a failing rank stops the others and its exit code is the job's", async () => {
    const dir = runDir('fail');
    // Rank 1 fails at once; rank 0 would run for a minute.
    const entry = rankScript('fail', "if (process.env.RANK === '1') process.exit(3); setTimeout(() => {}, 60000);");
    const t0 = Date.now();
    expect(await spawnRanks({ nproc: 2, args: [dir], entry })).toBe(3);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('a signal to the launcher reaches every rank as SIGTERM; ranks that stop with 130 make the job 130', async () => {
    const dir = runDir('signal');
    const entry = rankScript('stops', "process.on('SIGTERM', () => { fs.writeFileSync(dir + '/stopped-' + process.env.RANK, ''); process.exit(130); }); setInterval(() => {}, 1000);");
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const job = spawnRanks({ nproc: 2, args: [dir], entry });
    await ranksStarted(dir, 2);
    process.emit('SIGINT');
    expect(await job).toBe(130);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('stopped-')).sort()).toEqual(['stopped-0', 'stopped-1']);
    // The launcher's handlers are gone with it.
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });

  it('ranks still starting up (no handler yet) that end by the passed-on signal are stopped, not failed', async () => {
    const dir = runDir('startup');
    const entry = rankScript('starting', 'setInterval(() => {}, 1000);');
    const job = spawnRanks({ nproc: 2, args: [dir], entry });
    await ranksStarted(dir, 2);
    process.emit('SIGTERM');
    expect(await job).toBe(130);
  });
});
