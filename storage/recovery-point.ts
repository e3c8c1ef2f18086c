// The recovery point of a partition (`recovery.point`): a 64-byte record, rewritten in place with one pwrite by
// the writer after each batch's index entries, that says how far the log is known to be committed. Recovery uses
// it to tell a torn tail (bad entries past it: never complete, cut) from damage to committed data (bad or missing
// entries below it: CORRUPTION, nothing cut). Layout, little-endian:
//    0 u32 magic 'DSRP'   4 u32 version (1)   8 u64 firstId   16 u64 committedEnd   24 u64 durableEnd
//   32 16 bytes boot id of the machine when committedEnd was written   48 u64 timestampFloor   56..59 reserved (0)
//   60 u32 CRC-32 of 0..59
// committedEnd is what the writer put in the page cache: it survives any process crash, but only a power loss or OS
// crash that did not happen (same boot id) makes it trustworthy. durableEnd is what was fsynced before the record
// was written (every batch in 'immediate', each flush() in 'on_flush', never in 'buffered'): true after any crash.
// timestampFloor is the newest timestamp of the events retention removed (ids below firstId; 0: none recorded, as in
// records of earlier versions, which kept these bytes reserved and zero and ignore them): a writer's timestamps never
// go below it, also when no event is left to take the floor from.
import fs from 'node:fs';
import path from 'node:path';
import { crc32Range } from './crc.js';
import { bootIdBytes } from './boot-id.js';
import { writeAll } from './write-pieces.js';
import { StorageError } from './types.js';
import { fsyncDir } from './fs-helpers.js';

export const RECOVERY_POINT_NAME = 'recovery.point';
export const RECOVERY_POINT_SIZE = 64;
const MAGIC = 0x50525344; // 'DSRP' little-endian
const VERSION = 1;
const CRC_SPAN = 60;
const TWO_32 = 0x1_0000_0000;

export interface RecoveryPoint {
  firstId: number;
  committedEnd: number;
  durableEnd: number;
  /** 16 bytes; all zero when the boot id could not be read. */
  bootId: Buffer;
  /** Newest timestamp of the events below firstId (removed by retention); 0 when none is recorded. */
  timestampFloor: number;
}

/** What a partition's recovery point says, read without any lock. */
export type RecoveryPointState =
  | { kind: 'ok'; point: RecoveryPoint; sameBoot: boolean }
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string };

/** This boot's id as 16 bytes (boot-id.ts), or 16 zero bytes where there is none. */
export const currentBootId = bootIdBytes;

export function recoveryPointPath(dir: string): string {
  return path.join(dir, RECOVERY_POINT_NAME);
}

export function encodeRecoveryPoint(p: RecoveryPoint, buf: Buffer = Buffer.alloc(RECOVERY_POINT_SIZE)): Buffer {
  // A DataView and TypedArray#set, not Buffer's write methods: the writer encodes a point per batch, and each Buffer
  // method is JavaScript argument checking that the writer's optimized code would have to compile along.
  const v = new DataView(buf.buffer, buf.byteOffset, RECOVERY_POINT_SIZE);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  setU64(v, 8, p.firstId);
  setU64(v, 16, p.committedEnd);
  setU64(v, 24, p.durableEnd);
  if (p.bootId.length !== 16) buf.fill(0, 32, 48);
  buf.set(p.bootId.length > 16 ? p.bootId.subarray(0, 16) : p.bootId, 32);
  setU64(v, 48, p.timestampFloor);
  v.setUint32(56, 0, true);
  v.setUint32(CRC_SPAN, crc32Range(buf, 0, CRC_SPAN), true);
  return buf;
}

function setU64(v: DataView, at: number, value: number): void {
  v.setUint32(at, value % TWO_32, true);
  v.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

/** Decodes a record; a string says why it is not a valid one. */
export function decodeRecoveryPoint(buf: Buffer): RecoveryPoint | string {
  if (buf.length < RECOVERY_POINT_SIZE) return `${buf.length} bytes long instead of ${RECOVERY_POINT_SIZE}`;
  if (crc32Range(buf, 0, CRC_SPAN) !== buf.readUInt32LE(CRC_SPAN)) return 'fails its checksum';
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION) return 'has an unknown magic or version';
  const u64 = (at: number): number => buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
  const p = { firstId: u64(8), committedEnd: u64(16), durableEnd: u64(24), bootId: Buffer.from(buf.subarray(32, 48)), timestampFloor: u64(48) };
  if (!(p.firstId <= p.durableEnd && p.durableEnd <= p.committedEnd && p.committedEnd <= Number.MAX_SAFE_INTEGER)) {
    return `holds inconsistent ids (first ${p.firstId}, durable end ${p.durableEnd}, committed end ${p.committedEnd})`;
  }
  if (p.timestampFloor > Number.MAX_SAFE_INTEGER) return `holds an impossible timestamp floor (${p.timestampFloor})`;
  return p;
}

/** True when `bootId` is this boot's (and known): no power loss or OS crash happened since it was written. */
export function isThisBoot(bootId: Buffer): boolean {
  const now = currentBootId();
  return !now.every((b) => b === 0) && now.equals(bootId);
}

/** Reads a record from an open descriptor; retries a record caught half-rewritten by a live writer. */
function readFrom(fd: number, file: string, buf: Buffer = Buffer.alloc(RECOVERY_POINT_SIZE + 1)): RecoveryPointState {
  let why = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    // Empty: a point being created (or one a writer killed right after creating it): none yet, not damage.
    if (n === 0) return { kind: 'missing' };
    if (n !== RECOVERY_POINT_SIZE) {
      why = `is ${n === buf.length ? 'longer' : `${n} bytes long`} instead of ${RECOVERY_POINT_SIZE} bytes`;
      continue;
    }
    const p = decodeRecoveryPoint(buf.subarray(0, RECOVERY_POINT_SIZE));
    if (typeof p !== 'string') return { kind: 'ok', point: p, sameBoot: isThisBoot(p.bootId) };
    why = p;
  }
  return { kind: 'invalid', reason: `${file} ${why}` };
}

function openForRead(file: string): number | null {
  // The point of a partition not written yet is missing, and a consumer busy elsewhere looks again every 2 ms: an
  // existence check costs a quarter of a failed open (which builds an exception).
  if (!fs.existsSync(file)) return null;
  try {
    return fs.openSync(file, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageError('IO', `cannot open ${file}`, { file, cause });
  }
}

/**
 * Reads the recovery point of partition folder `dir` (opened by path: what a writer repairing under the lock and
 * verify() use). A record being rewritten by a live writer can be read torn (a checksum failure): it is read again
 * a few times before being called invalid.
 */
export function readRecoveryPoint(dir: string): RecoveryPointState {
  const file = recoveryPointPath(dir);
  const fd = openForRead(file);
  if (fd === null) return { kind: 'missing' };
  try {
    return readFrom(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A reader's handle on the point: the file stays open, so each refresh costs one pread. If the file is later
 * deleted or replaced, the old record keeps being read: its end was committed, so that is still true (only a newer
 * end is missed, which makes reads of damage at the very tail less strict, never wrong).
 */
export class RecoveryPointReader {
  private fd: number | null = null;
  /** Read into on every refresh (one more byte than a record: a longer file is told apart). */
  private readonly buf = Buffer.alloc(RECOVERY_POINT_SIZE + 1);
  constructor(private readonly file: string) {}

  read(): RecoveryPointState {
    this.fd ??= openForRead(this.file);
    if (this.fd === null) return { kind: 'missing' };
    return readFrom(this.fd, this.file, this.buf);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** The id below which every entry must be intact, per the point (null: no usable point, checksum-only rule). */
export function protectedEnd(state: RecoveryPointState): number | null {
  if (state.kind !== 'ok') return null;
  return state.sameBoot ? state.point.committedEnd : state.point.durableEnd;
}

/** The writer's handle on the record: one pwrite per update, no fsync (see the header for why none is needed). */
export class RecoveryPointWriter {
  readonly file: string;
  private fd: number | null = null;
  private readonly buf = Buffer.alloc(RECOVERY_POINT_SIZE);
  /** What was last written (or read under the lock). */
  point: RecoveryPoint;

  constructor(dir: string, point: RecoveryPoint) {
    this.file = recoveryPointPath(dir);
    this.point = point;
  }

  /** Writes the point with the given ends (durableEnd never moves backwards: it only grows with fsyncs). */
  write(committedEnd: number, durableEnd = this.point.durableEnd): void {
    const p = this.point;
    p.committedEnd = committedEnd;
    p.durableEnd = Math.min(Math.max(p.durableEnd, durableEnd), committedEnd);
    p.bootId = currentBootId();
    encodeRecoveryPoint(p, this.buf);
    this.fd ??= this.openOrCreate();
    writeAll(this.fd, this.buf, 0);
  }

  readonly size = RECOVERY_POINT_SIZE;

  /** Opens the file now (a writer opens its descriptors before it checks that its folder is still its own). */
  open(): void {
    this.fd ??= this.openOrCreate();
  }

  /**
   * Opens the point file, creating it if needed; a created one has its directory entry fsynced at once: a trim's
   * step 1 fsyncs only the file's data, and a first id whose file vanishes with a power loss would bring the
   * trimmed segments' ids back as missing.
   */
  private openOrCreate(): number {
    try {
      return fs.openSync(this.file, fs.constants.O_RDWR);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return fs.openSync(this.file, fs.constants.O_RDWR); // created meanwhile by another handle
    }
    // Created whole (its 64 bytes written at once), or not at all: a failure here (EMFILE on the folder's fsync, say)
    // left an empty file, which verify() reported as damage, and a leaked descriptor.
    try {
      writeAll(fd, encodeRecoveryPoint(this.point, this.buf), 0);
      fsyncDir(path.dirname(this.file));
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(this.file, { force: true });
      throw err;
    }
    return fd;
  }

  /**
   * retention: records a new first id and fsyncs it (step 1 of a trim, see retention/segment-trim.ts: it must be on
   * disk before any segment below it is unlinked). The durable end moves up with it: ids below the first id are no
   * longer stored, so claiming them durable protects nothing that could be lost. `newestRemoved` (the newest
   * timestamp of the events below it) raises the timestamp floor in the same write: once they are unlinked, nothing
   * else remembers how late the partition's clock was.
   */
  writeFirstId(firstId: number, newestRemoved: number | null): void {
    const p = this.point;
    p.firstId = firstId;
    if (newestRemoved !== null) p.timestampFloor = Math.max(p.timestampFloor, newestRemoved);
    p.durableEnd = Math.max(p.durableEnd, firstId);
    this.write(Math.max(p.committedEnd, firstId));
    fs.fdatasyncSync(this.fd!);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
