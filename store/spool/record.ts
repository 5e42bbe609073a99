import type { FileHandle } from 'node:fs/promises';
import { readFully } from './files.js';

// ---------------------------------------------------------------------------------------------
// Record framing
//
//   0  4  magic FF 53 50 01 ("\xFFSP" + format version 1; 0xFF never occurs in UTF-8 JSON)
//   4  4  CRC-32 (IEEE 802.3) of bytes 8 .. end of record, uint32 big-endian
//   8  4  payload length n, uint32 big-endian
//  12  8  appendedAt, ms since the Unix epoch, uint64 big-endian
//  20  n  payload: JSON.stringify(value), UTF-8
// ---------------------------------------------------------------------------------------------

const MAGIC = Buffer.from([0xff, 0x53, 0x50, 0x01]);
export const HEADER_BYTES = 20;
export const MAX_PAYLOAD_BYTES = 0xffff_ffff;
const READ_CHUNK = 256 * 1024;
const EMPTY = Buffer.alloc(0);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, reflected, poly 0xEDB88320): crc32("123456789") = 0xCBF43926. Node 20 has no zlib.crc32. */
export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeRecord(payload: Buffer, appendedAt: number): Buffer {
  const rec = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  MAGIC.copy(rec, 0);
  rec.writeUInt32BE(payload.length, 8);
  rec.writeBigUInt64BE(BigInt(appendedAt), 12);
  payload.copy(rec, HEADER_BYTES);
  rec.writeUInt32BE(crc32(rec.subarray(8)), 4);
  return rec;
}

export type Decoded =
  | { kind: 'ok'; end: number; appendedAt: number; payload: Buffer }
  | { kind: 'end' }
  | { kind: 'torn' | 'bad'; reason: string };

/** Reads records of one segment file through a read-ahead buffer (one syscall per chunk, not per record). */
export class SegmentReader {
  private buf: Buffer = EMPTY;
  private bufPos = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly end: number,
  ) {}

  private async bytes(pos: number, len: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(len, this.end - pos));
    if (pos >= this.bufPos && pos + want <= this.bufPos + this.buf.length) {
      return this.buf.subarray(pos - this.bufPos, pos - this.bufPos + want);
    }
    const buf = Buffer.allocUnsafe(Math.min(Math.max(want, READ_CHUNK), this.end - pos));
    const n = await readFully(this.fh, buf, pos);
    this.buf = buf.subarray(0, n);
    this.bufPos = pos;
    return this.buf.subarray(0, Math.min(want, n));
  }

  /** The record starting at `pos`. `verify` checks the CRC and returns the payload; without it only the header is read. */
  async record(pos: number, verify: boolean): Promise<Decoded> {
    if (pos >= this.end) return { kind: 'end' };
    const head = await this.bytes(pos, HEADER_BYTES);
    if (head.length < HEADER_BYTES) return { kind: 'torn', reason: `${this.end - pos} byte(s) left, fewer than a record header` };
    if (!head.subarray(0, 4).equals(MAGIC)) return { kind: 'bad', reason: 'no record header (bad magic)' };
    const crc = head.readUInt32BE(4);
    const length = head.readUInt32BE(8);
    const appendedAt = Number(head.readBigUInt64BE(12));
    const end = pos + HEADER_BYTES + length;
    if (end > this.end) return { kind: 'torn', reason: `record of ${length} payload bytes runs past the end of the file` };
    if (!verify) return { kind: 'ok', end, appendedAt, payload: EMPTY };
    const whole = await this.bytes(pos, HEADER_BYTES + length);
    if (whole.length < HEADER_BYTES + length) return { kind: 'torn', reason: 'file shorter than its size' };
    if (crc32(whole.subarray(8)) !== crc) return { kind: 'bad', reason: 'checksum mismatch' };
    return { kind: 'ok', end, appendedAt, payload: whole.subarray(HEADER_BYTES) };
  }
}

/** Valid records found by scanning `buf` for the magic and checking each candidate's CRC (resynchronisation after damage). */
export function salvageRecords(buf: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let i = 0;
  while (i + HEADER_BYTES <= buf.length) {
    const j = buf.indexOf(MAGIC, i);
    if (j < 0 || j + HEADER_BYTES > buf.length) break;
    const end = j + HEADER_BYTES + buf.readUInt32BE(j + 8);
    if (end <= buf.length && crc32(buf.subarray(j + 8, end)) === buf.readUInt32BE(j + 4)) {
      found.push(buf.subarray(j, end));
      i = end;
    } else {
      i = j + 1;
    }
  }
  return found;
}
