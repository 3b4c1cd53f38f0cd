/**
 * The server stays available to honest clients while slow ones try to hold it: bodies sent at 20
 * bytes a second are cut once a window passes under the minimum rate (408, their places freed), one
 * address holds at most `perClient` places (429 at once for more), normal requests are served
 * meanwhile, /healthz and /metrics show it all, and a client that leaves mid-body gets its log line.
 * Clients come from distinct loopback addresses (127.0.0.N: Linux routes all of 127/8 to lo).
 */
import * as net from 'node:net';
import pino from 'pino';
import sharp from 'sharp';
import { Anonymizer } from '../../src/inference/anonymizer';
import { createServer, type DocAnonServer } from '../../src/server/server';
import { multipart } from '../helpers/server-client';

/** A client that sends a request head and then its body at `bytesPerSecond`; resolves with the status line it got. */
class SlowClient {
  readonly status: Promise<string>;
  private readonly socket: net.Socket;
  private timer?: NodeJS.Timeout;

  constructor(port: number, from: string, path = '/v1/anonymize', bytesPerSecond = 20) {
    this.socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    let text = '';
    this.status = new Promise((resolve) => {
      const done = (): void => {
        clearInterval(this.timer);
        resolve(text.split('\r\n')[0] || 'closed without an answer');
      };
      this.socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) done();
      });
      this.socket.on('close', done);
      this.socket.on('error', done);
    });
    this.socket.on('connect', () => {
      this.socket.write(`POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n`);
      const send = (): unknown => this.socket.writable && this.socket.write(Buffer.alloc(bytesPerSecond, 0x41));
      send();
      this.timer = setInterval(send, 1000);
    });
  }

  leave(): void {
    clearInterval(this.timer);
    this.socket.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('HTTP API under slow clients', () => {
  let anonymizer: Anonymizer;
  let server: DocAnonServer;
  let base: string;
  let port: number;
  let page: Buffer;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    anonymizer = await Anonymizer.create({ limits: { maxPixels: 4_000_000, maxRegions: 64 } });
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    server = await createServer(
      { port: 0, limits: { concurrency: 2, maxQueue: 16, perClient: 4, minBodyBytesPerSecond: 1024, bodyRateWindowMs: 1500, timeoutMs: 60_000 } },
      { anonymizer, logger },
    );
    base = await server.listen();
    port = Number(new URL(base).port);
    page = await sharp({ create: { width: 200, height: 80, channels: 3, background: '#ffffff' } }).png().toBuffer();
  });
  afterAll(async () => {
    await server?.close();
    await anonymizer?.close();
  });

  /** A normal request: a small page with one region, no OCR (verification off), answered at once. */
  const normal = async (): Promise<number> => {
    const m = multipart([
      { name: 'image', data: page, type: 'image/png' },
      { name: 'options', data: JSON.stringify({ regions: [{ box: [10, 10, 120, 40], replacement: 'Jane Roe' }], verify: false }), type: 'application/json' },
    ]);
    const r = await fetch(`${base}/v1/anonymize`, { method: 'POST', body: m.body, headers: { 'content-type': m.contentType } });
    await r.arrayBuffer();
    return r.status;
  };
  const health = async (): Promise<{ queue: Record<string, number>; clients: Record<string, number>; bodies: Record<string, number>; refused: Record<string, number> }> =>
    (await fetch(`${base}/healthz`)).json() as never;

  it('serves normal requests while 18 slow connections try to hold the queue, and cuts the slow ones', async () => {
    // 18 connections from three addresses at 20 bytes/s: each address gets 4 places, the rest 429.
    const slow = Array.from({ length: 18 }, (_, i) => new SlowClient(port, `127.0.0.${2 + (i % 3)}`));
    await sleep(400);
    const h = await health();
    expect(h.queue.arriving).toBe(12);
    expect(h.clients).toEqual({ active: 3, busiest: 4, perClient: 4 });
    expect(h.bodies).toEqual({ minBytesPerSecond: 1024, windowMs: 1500 });
    expect(h.refused.clientCap).toBe(6);
    // Honest clients are served meanwhile, one after the other and several at once.
    expect(await normal()).toBe(200);
    expect(await Promise.all([normal(), normal(), normal()])).toEqual([200, 200, 200]);
    // Past a window under the minimum rate, every slow body is cut: 408 for the admitted, 429 for the others.
    const statuses = await Promise.all(slow.map((c) => c.status));
    expect(statuses.filter((s) => /^HTTP\/1\.1 408 /.test(s))).toHaveLength(12);
    expect(statuses.filter((s) => /^HTTP\/1\.1 429 /.test(s))).toHaveLength(6);
    const after = await health();
    expect(after.queue).toMatchObject({ arriving: 0, running: 0, waiting: 0 });
    expect(after.clients.active).toBe(0);
    expect(after.refused).toMatchObject({ slowBodies: 12, clientCap: 6 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^doc_anon_refused_total\{reason="slow_body"\} 12$/m);
    expect(metrics).toMatch(/^doc_anon_refused_total\{reason="client_cap"\} 6$/m);
    expect(metrics).toMatch(/^doc_anon_limit_per_client 4$/m);
    expect(metrics).toMatch(/^doc_anon_limit_min_body_bytes_per_second 1024$/m);
    const cut = logLines.filter((l) => l.route === '/v1/anonymize' && l.status === 408);
    expect(cut).toHaveLength(12);
    expect(cut.every((l) => l.code === 'ERR_TIMEOUT')).toBe(true);
  });

  it('frees the places of slow clients from many addresses within a window, not the 90 s request timeout', async () => {
    const slow = Array.from({ length: 18 }, (_, i) => new SlowClient(port, `127.0.1.${2 + i}`, i % 2 ? '/v1/detect' : '/v1/anonymize'));
    await sleep(400);
    expect((await health()).queue.arriving).toBe(18);
    // Every place is held: an honest request is refused now...
    expect(await normal()).toBe(429);
    const t0 = Date.now();
    const statuses = await Promise.all(slow.map((c) => c.status));
    expect(statuses.every((s) => /^HTTP\/1\.1 408 /.test(s))).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    // ...and served once the slow bodies are cut.
    expect(await normal()).toBe(200);
  });

  it('logs a request whose client leaves mid-body (499, ERR_ABORTED) and counts it', async () => {
    const before = logLines.length;
    const c = new SlowClient(port, '127.0.2.2', '/v1/detect', 2000);
    await sleep(300);
    expect((await health()).queue.arriving).toBe(1);
    c.leave();
    await c.status;
    await sleep(200);
    const lines = logLines.slice(before).filter((l) => l.route === '/v1/detect');
    expect(lines).toEqual([expect.objectContaining({ method: 'POST', status: 499, code: 'ERR_ABORTED', msg: 'request' })]);
    // The body bytes that did arrive (one second's worth was sent at once).
    expect(lines[0].bytesIn).toBe(2000);
    expect((await health()).queue.arriving).toBe(0);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^doc_anon_aborted_total\{route="\/v1\/detect"\} 1$/m);
  });
});
