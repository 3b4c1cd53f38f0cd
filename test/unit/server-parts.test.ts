/** The server's small parts: multipart parsing, the bounded queue, the token check, metrics, error mapping. */
import { ErrorCode, DocAnonError } from '../../src/core/errors';
import { parseRequestOptions } from '../../src/inference/request-options';
import { bearerChecker } from '../../src/server/auth';
import { toHttpError } from '../../src/server/http-errors';
import { Metrics } from '../../src/server/metrics';
import { parseMultipart } from '../../src/server/multipart';
import { BoundedQueue } from '../../src/server/queue';
import { multipart } from '../helpers/server-client';

describe('multipart', () => {
  it('splits parts with names, types and binary data intact', () => {
    const bin = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
    const m = multipart([{ name: 'image', data: bin, type: 'image/png', filename: 'a.png' }, { name: 'options', data: '{"a":1}', type: 'application/json' }]);
    const parts = parseMultipart(m.body, m.contentType);
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([['image', 'a.png', 'image/png'], ['options', undefined, 'application/json']]);
    expect(parts[0].data.equals(bin)).toBe(true);
    expect(parts[1].data.toString()).toBe('{"a":1}');
  });
  it('refuses malformed bodies with ERR_INPUT', () => {
    const m = multipart([{ name: 'image', data: 'x' }]);
    expect(() => parseMultipart(m.body, 'multipart/form-data')).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
    expect(() => parseMultipart(m.body.subarray(0, m.body.length - 20), m.contentType)).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
    expect(() => parseMultipart(Buffer.from('garbage'), m.contentType)).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
    const many = multipart(Array.from({ length: 12 }, () => ({ name: 'x', data: 'y' })));
    expect(() => parseMultipart(many.body, many.contentType)).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
  });
});

describe('BoundedQueue', () => {
  it('admits requests before their bodies arrive only while running, waiting and arriving ones leave room', async () => {
    const q = new BoundedQueue(1, 1);
    const a = q.admit();
    const b = q.admit();
    expect(q.arriving).toBe(2);
    expect(() => q.admit()).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    a();
    a(); // twice is harmless
    expect(q.arriving).toBe(1);
    let finish!: () => void;
    const running = q.run(() => new Promise<void>((r) => (finish = r)));
    // One running, one arriving: full.
    expect(() => q.admit()).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    b();
    const c = q.admit(); // the arriving one left: room for one more
    expect(q.arriving).toBe(1);
    c();
    finish();
    await running;
    expect([q.running, q.arriving]).toEqual([0, 0]);
  });

  it('runs at most `concurrency` tasks, queues `maxQueue`, refuses the rest with ERR_BUSY', async () => {
    const q = new BoundedQueue(1, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: number[] = [];
    const a = q.run(async () => {
      await gate;
      order.push(1);
    });
    const b = q.run(async () => {
      order.push(2);
    });
    expect([q.running, q.depth]).toEqual([1, 1]);
    await expect(q.run(async () => undefined)).rejects.toMatchObject({ code: ErrorCode.BUSY });
    release();
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
    expect([q.running, q.depth]).toEqual([0, 0]);
  });
  it('drops a waiting task whose signal aborts', async () => {
    const q = new BoundedQueue(1, 4);
    let release!: () => void;
    const a = q.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const ran = jest.fn();
    const b = q.run(async () => ran(), ac.signal);
    ac.abort(new DocAnonError(ErrorCode.TIMEOUT, 'late'));
    await expect(b).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(q.depth).toBe(0);
    release();
    await a;
    expect(ran).not.toHaveBeenCalled();
    expect(q.running).toBe(0);
  });
  it('keeps a slot for work the task left running, and frees it when that work settles', async () => {
    const q = new BoundedQueue(1, 0);
    let finish!: () => void;
    const leftover = new Promise<void>((r) => (finish = r));
    await expect(
      q.run(async (keep) => {
        keep(leftover);
        throw new DocAnonError(ErrorCode.ABORTED, 'gave up');
      }),
    ).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect([q.running, q.lingering]).toEqual([1, 1]);
    await expect(q.run(async () => undefined)).rejects.toMatchObject({ code: ErrorCode.BUSY });
    finish();
    await new Promise((r) => setImmediate(r));
    expect([q.running, q.lingering]).toEqual([0, 0]);
    await expect(q.run(async () => 'ran')).resolves.toBe('ran');
  });
  it('hands a kept slot to the next waiter, and a rejected leftover frees it too', async () => {
    const q = new BoundedQueue(1, 1);
    let fail!: (e: Error) => void;
    const leftover = new Promise<void>((_, reject) => (fail = reject));
    await q.run(async (keep) => keep(leftover));
    const next = q.run(async () => 'next');
    expect(q.depth).toBe(1);
    fail(new Error('OCR timed out'));
    await expect(next).resolves.toBe('next');
    expect([q.running, q.depth, q.lingering]).toEqual([0, 0, 0]);
  });
});

describe('bearer token, errors, metrics, request options', () => {
  it('accepts only the exact token', () => {
    const check = bearerChecker('0123456789abcdef');
    expect(() => check('Bearer 0123456789abcdef')).not.toThrow();
    for (const bad of [undefined, '', 'Bearer', 'Bearer 0123456789abcdeF', 'Basic 0123456789abcdef', 'Bearer 0123456789abcdef0']) {
      expect(() => check(bad)).toThrow(expect.objectContaining({ code: ErrorCode.UNAUTHORIZED }));
    }
  });
  it('maps input problems to 4xx and hides internal messages', () => {
    expect(toHttpError(new DocAnonError(ErrorCode.IMAGE_TOO_LARGE, 'big'), 'r1')).toMatchObject({ status: 413, code: 'ERR_IMAGE_TOO_LARGE', message: 'big' });
    expect(toHttpError(new DocAnonError(ErrorCode.BUSY, 'busy'), 'r1').status).toBe(429);
    const internal = toHttpError(new Error('/secret/path exploded'), 'r9');
    expect(internal).toMatchObject({ status: 500, code: 'ERR_INTERNAL', internal: true });
    expect(internal.message).not.toContain('/secret/path');
    expect(toHttpError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'too large' }, 'r').code).toBe('ERR_BODY_TOO_LARGE');
  });
  it('renders Prometheus text with escaped labels', () => {
    const m = new Metrics(() => ({ doc_anon_queue_depth: { help: 'd', value: 3 } }));
    m.requests.inc({ route: '/v1/anonymize', method: 'POST', status: '200' });
    m.errors.inc({ code: 'ERR_"X"' });
    m.latency.observe({ route: '/x' }, 0.3);
    const t = m.render();
    expect(t).toContain('doc_anon_http_requests_total{route="/v1/anonymize",method="POST",status="200"} 1');
    expect(t).toContain('doc_anon_errors_total{code="ERR_\\"X\\""} 1');
    expect(t).toContain('doc_anon_http_request_duration_seconds_bucket{route="/x",le="0.25"} 0');
    expect(t).toContain('doc_anon_http_request_duration_seconds_bucket{route="/x",le="0.5"} 1');
    expect(t).toContain('doc_anon_queue_depth 3');
  });
  it('validates request options strictly, with counts checked first', () => {
    expect(parseRequestOptions({}, { maxRegions: 4 })).toEqual({ includeOriginal: false, allowEmpty: false });
    expect(() => parseRequestOptions({ regions: new Array(5).fill({ box: [0, 0, 1, 1], replacement: '' }) }, { maxRegions: 4 })).toThrow(
      expect.objectContaining({ code: ErrorCode.INPUT }),
    );
    expect(() => parseRequestOptions({ verify: 'yes' }, { maxRegions: 4 })).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
    expect(() => parseRequestOptions({ policy: { entities: ['nonsense'] } }, { maxRegions: 4 })).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }));
  });
  it('refuses regular expressions a request brings (a catastrophic one would stall the server) unless the operator allows them', () => {
    const slow = { policy: { customRules: [{ name: 'x', entity: 'x', pattern: '(a+)+$' }] } };
    const keep = { policy: { keep: { patterns: ['(a|aa)+$'] } } };
    for (const o of [slow, keep]) {
      expect(() => parseRequestOptions(o, { maxRegions: 4 })).toThrow(
        expect.objectContaining({ code: ErrorCode.INPUT, message: expect.stringMatching(/may not bring its own regular expressions.*requestPatterns: true/) }),
      );
      expect(parseRequestOptions(o, { maxRegions: 4, requestPatterns: true }).policy).toBeDefined();
    }
    // A policy without patterns is fine.
    expect(parseRequestOptions({ policy: { keep: { values: ['ACME Bank'] } } }, { maxRegions: 4 }).policy?.keep.values).toEqual(['ACME Bank']);
  });
});
