/**
 * Who gets into the queue, and how long a body may take to arrive. A request is admitted when it
 * arrives, before its body is read (a busy server does not buffer bodies it will refuse); while its
 * body arrives it holds a place in the queue. Without more, 18 connections sending their bodies at
 * 20 bytes a second held every place for the whole request timeout and honest clients got 429.
 * So:
 * - a body must keep arriving at `limits.minBodyBytesPerSecond`, measured over each window of
 *   `limits.bodyRateWindowMs` (the first window is the grace a connection gets to start): slower,
 *   and the request ends at once with 408 ERR_TIMEOUT and its place is free;
 * - one client address holds at most `limits.perClient` requests at a time (arriving, waiting or
 *   running); more are 429 ERR_BUSY at once, so one address cannot fill the queue;
 * - both are counted for /healthz and /metrics.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { Metrics } from './metrics';
import type { ServerLimits } from './options';
import type { BoundedQueue } from './queue';

/** A body that arrived too slowly: answered 408 (the table's ERR_TIMEOUT is 503, for work out of time). */
export class SlowBodyError extends DocAnonError {
  /** The HTTP status of this error (read by the server's error handler and by fastify's body reader). */
  readonly statusCode = 408;
  constructor(rate: number, windowMs: number) {
    super(ErrorCode.TIMEOUT, `the request body arrived slower than ${rate} bytes/s over ${windowMs} ms; send it faster, or in one go`);
  }
}

/** True for an error raised by a body that arrived too slowly. */
export function isSlowBody(e: unknown): e is SlowBodyError {
  return e instanceof SlowBodyError;
}

/** Counts a request's body bytes as they pass and fails it when they come too slowly. */
class RateGuard extends Transform {
  /** Fastify compares this with Content-Length and the body limit. */
  receivedEncodedLength = 0;
  private inWindow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly minBytes: number,
    readonly rate: number,
    readonly windowMs: number,
    onSlow: () => void,
  ) {
    super();
    this.timer = setInterval(() => {
      if (this.inWindow < this.minBytes) {
        onSlow();
        this.destroy(new SlowBodyError(this.rate, this.windowMs));
      }
      this.inWindow = 0;
    }, windowMs);
    this.timer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    this.inWindow += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    clearInterval(this.timer);
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    done(err);
  }

  /** No more measuring (the request is over: its body ended, or its client went away). */
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Counters of refused and cut requests, for /healthz and /metrics. */
export interface AdmissionCounts {
  /** Requests cut because their body arrived too slowly. */
  slowBodies: number;
  /** Requests refused because their address already had `perClient` in flight. */
  clientCap: number;
  /** Requests refused because the queue was full. */
  queueFull: number;
}

interface Admitted {
  release: () => void;
  client: string;
  finished: boolean;
  guard?: RateGuard;
}

/** Admission of requests to the queue: the token, the per-client cap, the queue's room, the body rate. */
export class Admission {
  private readonly perAddress = new Map<string, number>();
  private readonly admitted = new WeakMap<FastifyRequest, Admitted>();
  readonly counts: AdmissionCounts = { slowBodies: 0, clientCap: 0, queueFull: 0 };

  constructor(
    private readonly queue: BoundedQueue,
    private readonly limits: Pick<ServerLimits, 'perClient' | 'minBodyBytesPerSecond' | 'bodyRateWindowMs'>,
    private readonly authorize: (header: string | undefined) => void,
    private readonly metrics?: Metrics,
  ) {}

  /** Addresses with requests in flight now. */
  get clients(): number {
    return this.perAddress.size;
  }

  /** Requests in flight of the busiest address. */
  get busiestClient(): number {
    let most = 0;
    for (const n of this.perAddress.values()) most = Math.max(most, n);
    return most;
  }

  /** Route hooks: admission when the request arrives, the rate guard on its body, release when it ends. */
  hooks(): {
    onRequest: (req: FastifyRequest) => Promise<void>;
    preParsing: (req: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream) => Promise<NodeJS.ReadableStream>;
    onResponse: (req: FastifyRequest) => Promise<void>;
    onRequestAbort: (req: FastifyRequest) => Promise<void>;
  } {
    const finish = async (req: FastifyRequest): Promise<void> => this.finish(req);
    return {
      onRequest: async (req) => this.admit(req),
      preParsing: async (req, _reply, payload) => this.guard(req, payload),
      onResponse: finish,
      onRequestAbort: finish,
    };
  }

  /** Body bytes received so far (undefined for a request not admitted, or with no rate guard). */
  received(req: FastifyRequest): number | undefined {
    return this.admitted.get(req)?.guard?.receivedEncodedLength;
  }

  /** The body is here: the queue place passes from "arriving" to the queue itself. */
  bodyArrived(req: FastifyRequest): void {
    this.admitted.get(req)?.release();
  }

  private admit(req: FastifyRequest): void {
    this.authorize(req.headers.authorization);
    const client = req.ip || 'unknown';
    const held = this.perAddress.get(client) ?? 0;
    if (this.limits.perClient > 0 && held >= this.limits.perClient) {
      this.counts.clientCap++;
      this.metrics?.refused.inc({ reason: 'client_cap' });
      throw new DocAnonError(ErrorCode.BUSY, `this client already has ${held} request(s) in flight, the most one address may have (limits.perClient); retry when one has finished`);
    }
    let release: () => void;
    try {
      release = this.queue.admit();
    } catch (e) {
      this.counts.queueFull++;
      this.metrics?.refused.inc({ reason: 'queue_full' });
      throw e;
    }
    this.perAddress.set(client, held + 1);
    this.admitted.set(req, { release, client, finished: false });
  }

  private guard(req: FastifyRequest, payload: NodeJS.ReadableStream): NodeJS.ReadableStream {
    const rate = this.limits.minBodyBytesPerSecond;
    const admitted = this.admitted.get(req);
    if (rate <= 0 || !admitted) return payload;
    const windowMs = this.limits.bodyRateWindowMs;
    const guard = new RateGuard(Math.ceil((rate * windowMs) / 1000), rate, windowMs, () => {
      this.counts.slowBodies++;
      this.metrics?.refused.inc({ reason: 'slow_body' });
    });
    admitted.guard = guard;
    payload.on('error', (e: Error) => guard.destroy(e));
    // A client gone mid-body is no slow body: its request is over (logged as aborted).
    payload.on('close', () => guard.stop());
    // Fastify stops listening once it has answered (a body over the limit, say): an error then is nobody's.
    guard.on('error', () => undefined);
    return payload.pipe(guard);
  }

  private finish(req: FastifyRequest): void {
    const a = this.admitted.get(req);
    if (!a || a.finished) return;
    a.finished = true;
    a.guard?.stop();
    a.release();
    const n = (this.perAddress.get(a.client) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(a.client);
    else this.perAddress.set(a.client, n);
  }
}
