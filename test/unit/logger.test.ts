import { Writable } from 'node:stream';
import { createLogger } from '../../src';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON lines and redacts secrets wherever the usual keys appear', () => {
    const c = capture();
    const log = createLogger({ level: 'info' }, c.stream);
    log.info({ secretAccessKey: 'AKIA-SECRET', creds: { password: 'hunter2' }, headers: { authorization: 'Bearer x' }, step: 3 }, 'uploading');
    const [line] = c.lines();
    expect(line.msg).toBe('uploading');
    expect(line.step).toBe(3);
    expect(JSON.stringify(line)).not.toMatch(/AKIA-SECRET|hunter2|Bearer x/);
    expect(line.secretAccessKey).toBe('[redacted]');
  });
});
