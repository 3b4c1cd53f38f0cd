/**
 * TensorBoard event files: the format `tensorboard --logdir` (and PyTorch's SummaryWriter) read.
 * Each event is a protobuf `Event` (schemas/tensorboard/event.proto, TensorFlow's field numbers)
 * encoded with protobufjs, framed as a TFRecord: the length as a little-endian uint64, its masked
 * CRC-32C, the bytes, their masked CRC-32C. {@link readTensorBoardEvents} reads such a file back
 * with the same schema, checking every checksum.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { DocAnonError, ErrorCode } from '../core/errors';
import { packageRoot } from '../core/package-paths';

/** The schema file (shipped in the package's schemas/). */
export const TENSORBOARD_PROTO = path.join(packageRoot, 'schemas', 'tensorboard', 'event.proto');

let root: protobuf.Root | undefined;
/** The `tensorboard.Event` message type of {@link TENSORBOARD_PROTO}. */
export function eventType(): protobuf.Type {
  root ??= protobuf.loadSync(TENSORBOARD_PROTO);
  return root.lookupType('tensorboard.Event');
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function record(data: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(data.length), 0);
  head.writeUInt32LE(maskedCrc32c(head.subarray(0, 8)), 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([head, data, tail]);
}

/** A PNG for an image summary. */
export interface SummaryImage {
  png: Uint8Array;
  width: number;
  height: number;
  /** 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 2 | 3 | 4;
}

/**
 * Appends events to one new file `events.out.tfevents.<seconds>.<host>[.suffix]` in `logdir`
 * (created). Writes are synchronous appends of whole records, so a process that dies leaves every
 * event it wrote readable.
 */
export class TensorBoardWriter {
  /** The event file. */
  readonly file: string;
  private fd: number | undefined;

  constructor(logdir: string, options: { filenameSuffix?: string } = {}) {
    try {
      fs.mkdirSync(logdir, { recursive: true });
    } catch (e) {
      throw new DocAnonError(ErrorCode.IO, `cannot create the TensorBoard folder ${logdir}: ${(e as Error).message}`, { cause: e });
    }
    const now = Date.now() / 1000;
    const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
    this.file = path.join(logdir, `events.out.tfevents.${Math.floor(now)}.${host}${options.filenameSuffix ?? ''}`);
    try {
      this.fd = fs.openSync(this.file, 'a');
    } catch (e) {
      throw new DocAnonError(ErrorCode.IO, `cannot open ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    this.write({ wallTime: now, step: 0, fileVersion: 'brain.Event:2' });
  }

  private write(event: Record<string, unknown>): void {
    if (this.fd === undefined) throw new DocAnonError(ErrorCode.DISPOSED, `the TensorBoard writer of ${this.file} was closed`);
    const type = eventType();
    const bytes = type.encode(type.fromObject(event)).finish();
    fs.writeSync(this.fd, record(bytes));
  }

  /** One scalar per tag at `step` (non-finite values are written too: TensorBoard shows them as gaps). */
  addScalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    const value = Object.entries(values).map(([tag, v]) => ({ tag, simpleValue: v }));
    if (value.length) this.write({ wallTime, step, summary: { value } });
  }

  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addScalars(step, { [tag]: value }, wallTime);
  }

  /** A PNG image under `tag` at `step`. */
  addImage(tag: string, image: SummaryImage, step: number, wallTime = Date.now() / 1000): void {
    this.write({
      wallTime,
      step,
      summary: { value: [{ tag, image: { height: image.height, width: image.width, colorspace: image.channels ?? 3, encodedImageString: image.png } }] },
    });
  }

  /** Flushes the file to disk. */
  flush(): void {
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A decoded event (protobufjs' plain object form: camelCase fields, int64 step as a number). */
export interface TensorBoardEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: {
    value: Array<{
      tag: string;
      simpleValue?: number;
      image?: { height: number; width: number; colorspace: number; encodedImageString: Buffer };
    }>;
  };
}

/** Reads every event of a TFRecord event file, checking each record's checksums (ERR_INPUT when one fails). */
export function readTensorBoardEvents(file: string): TensorBoardEvent[] {
  const buf = fs.readFileSync(file);
  const type = eventType();
  const out: TensorBoardEvent[] = [];
  let o = 0;
  while (o < buf.length) {
    if (o + 12 > buf.length) throw new DocAnonError(ErrorCode.INPUT, `${file}: truncated record header at byte ${o}`);
    const len = Number(buf.readBigUInt64LE(o));
    if (buf.readUInt32LE(o + 8) !== maskedCrc32c(buf.subarray(o, o + 8))) throw new DocAnonError(ErrorCode.INPUT, `${file}: bad length checksum at byte ${o}`);
    const data = buf.subarray(o + 12, o + 12 + len);
    if (data.length !== len || o + 16 + len > buf.length) throw new DocAnonError(ErrorCode.INPUT, `${file}: truncated record at byte ${o}`);
    if (buf.readUInt32LE(o + 12 + len) !== maskedCrc32c(data)) throw new DocAnonError(ErrorCode.INPUT, `${file}: bad data checksum at byte ${o}`);
    out.push(type.toObject(type.decode(data), { longs: Number, defaults: false }) as TensorBoardEvent);
    o += 16 + len;
  }
  return out;
}
