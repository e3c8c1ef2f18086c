// Durable acknowledgements of named consumers: per consumer name and partition, the last acknowledged event id, kept
// in an offset file (its format: offset-file.ts). A store rewrites only the slot holding the older sequence, with one
// pwrite of 32 bytes on a descriptor kept open. Writers must hold the partition's claim (consumer-claims.ts); this is
// the lock the offsets live under, taken once per consumer and partition, never per store. Resets: consumer-reset.ts.
import fs from 'node:fs';
import { join } from 'node:path';
import { ConsumerClaims, claimEntryPartition, type Claim } from './consumer-claims.js';
import {
  checkPartition,
  checkTopicDir,
  consumerDir,
  consumersRoot,
  consumersRootEntries,
  decodeConsumerName,
  ensureConsumerDir,
  parsePartitionFile,
  partitionStem,
} from './consumer-name.js';
import { FolderSettler, pendingResetFiles, resetConsumerFiles } from './consumer-reset.js';
import { writeFileAtomically } from './fs-helpers.js';
import {
  checkAckedId,
  encodeOffsetSlot,
  interpretOffsetFile,
  ioError,
  OFFSET_FILE_BYTES,
  OFFSET_SLOT_BYTES,
  readOffsetFile,
  wholeOffsetFile,
} from './offset-file.js';
import { FLUSH_BEHAVIORS, StorageError, type FlushBehavior } from './types.js';

export {
  decodeOffsetSlot,
  encodeOffsetSlot,
  interpretOffsetFile,
  OFFSET_FILE_BYTES,
  OFFSET_FORMAT_VERSION,
  OFFSET_MAGIC,
  OFFSET_SLOT_BYTES,
  offsetFilePath,
  readOffsetFile,
  type OffsetFileState,
  type OffsetSlot,
} from './offset-file.js';
export { readConsumerPosition, RESET_KILL_ENV } from './consumer-reset.js';

/** One open offset file and what we know it holds. */
interface OpenOffset {
  readonly file: string;
  partition: number;
  fd: number;
  sequence: number;
  value: number; // lastAckedId + 1, 0 = none
  newestSlot: 0 | 1 | -1;
  dirty: boolean; // written since the last fsync
  /** The file the descriptor is (device, inode): compared with the one at the path. */
  dev: number;
  ino: number;
  /** performance.now() after which a store checks the path again. */
  nextCheck: number;
}

/**
 * How often, at most, a store checks that its descriptor is still the file at the path (one stat): a file deleted or
 * replaced by another process is put back with the position within this time, and at close.
 */
export const OFFSET_PATH_CHECK_MS = 1000;

function readAll(fd: number, file: string): Buffer {
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, OFFSET_FILE_BYTES + 1));
    const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, 0) : 0;
    return buf.subarray(0, n);
  } catch (cause) {
    throw ioError(`cannot read offset file ${file}`, file, cause);
  }
}

/** Opens an existing offset file and parses it (CORRUPTION if damaged); null if there is none. */
function openOffsetFile(file: string, partition: number): OpenOffset | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(`cannot open offset file ${file}`, file, cause);
  }
  try {
    const state = interpretOffsetFile(readAll(fd, file), file);
    const value = state.lastAckedId === null ? 0 : state.lastAckedId + 1;
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (cause) {
      throw ioError(`cannot read offset file ${file}`, file, cause);
    }
    const nextCheck = performance.now() + OFFSET_PATH_CHECK_MS;
    return { file, partition, fd, sequence: state.sequence, value, newestSlot: state.newestSlot, dirty: false, dev: st.dev, ino: st.ino, nextCheck };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}


/**
 * Puts a whole offset file at `file` holding `value` with `sequence` (fs-helpers.ts writeFileAtomically), so the path
 * never shows a file without a valid slot (a crash leaves the old file or the new one). 'buffered' consumers skip the
 * fsyncs (`durable` false): their positions survive a process crash, not a power loss, after which a file left
 * empty is reported as CORRUPTION, never read as "nothing acknowledged".
 */
function writeWholeOffsetFile(file: string, sequence: number, value: number, durable: boolean): void {
  writeFileAtomically(file, wholeOffsetFile(sequence, value), durable);
}

/** Writes `value` as the next sequence into the older slot: one pwrite. */
function writeNext(o: OpenOffset, value: number, scratch: Buffer): void {
  const slot = o.newestSlot === 0 ? 1 : 0;
  const sequence = o.sequence + 1;
  encodeOffsetSlot(sequence, value, scratch, 0);
  let n: number;
  try {
    n = fs.writeSync(o.fd, scratch, 0, OFFSET_SLOT_BYTES, slot * OFFSET_SLOT_BYTES);
  } catch (cause) {
    throw ioError(`cannot write offset file ${o.file}`, o.file, cause);
  }
  if (n !== OFFSET_SLOT_BYTES) {
    throw new StorageError('IO', `short write (${n} bytes) to offset file ${o.file}`, { file: o.file, offset: slot * OFFSET_SLOT_BYTES });
  }
  o.sequence = sequence;
  o.value = value;
  o.newestSlot = slot;
  o.dirty = true;
}

/** True if the file at `o`'s path is the one its descriptor writes (not deleted, not replaced). */
function stillAtPath(o: OpenOffset): boolean {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(o.file, { throwIfNoEntry: false });
  } catch (cause) {
    throw ioError(`cannot check offset file ${o.file}`, o.file, cause);
  }
  return st !== undefined && st.ino === o.ino && st.dev === o.dev;
}

function syncOne(o: OpenOffset): void {
  if (!o.dirty) return;
  try {
    fs.fdatasyncSync(o.fd);
  } catch (cause) {
    throw ioError(`cannot fsync offset file ${o.file}`, o.file, cause);
  }
  o.dirty = false;
}

export interface ConsumerOffsetsOptions {
  /** 'immediate': fsync after every store; 'on_flush': fsync in sync()/close(); 'buffered' (default): never. */
  flushBehavior?: FlushBehavior;
  /**
   * Called after an offset file was opened by path and before anything is written to it: throws if the topic's
   * folder is no longer the one this consumer opened (a topic deleted and created again under the name).
   */
  checkTopicFolder?: () => void;
  /**
   * Asked before a file deleted or replaced under this writer gets its position put back: true if the writer still
   * holds the partition's claim (check it now: Claim.confirm). Default: always (the caller holds the claims).
   */
  holdsClaim?: (partition: number) => boolean;
}

/** An offset file that cannot be read as a position (CORRUPTION): which file, and why. */
export interface OffsetDamage {
  file: string;
  message: string;
}

export interface ConsumerListing {
  name: string;
  /** Partition -> last acknowledged id (null: offset file present, nothing acknowledged). */
  partitions: Map<number, number | null>;
  /** Partition -> its damaged offset file (not in `partitions`: it holds no position that can be read). */
  damaged: Map<number, OffsetDamage>;
  /** Partitions currently claimed by a live consumer of this name (sorted). */
  claimed: number[];
}

export interface ManagementOptions {
  /** Must match the consumers' claim staleness (default DEFAULT_CLAIM_STALE_MS). */
  staleMs?: number;
}

/**
 * The acknowledged positions of one consumer name in one topic. Open it, acquire the partition's claim
 * (ConsumerClaims), `load` the partition, then `store` as events are processed. `store` costs one pwrite of 32
 * bytes (plus an fdatasync with 'immediate'); callers coalesce acknowledgements and store at most once per batch.
 */
export class ConsumerOffsets {
  private readonly open = new Map<number, OpenOffset>();
  private readonly scratch = Buffer.alloc(OFFSET_SLOT_BYTES);
  private closed = false;

  private constructor(
    readonly topicDir: string,
    readonly consumerName: string,
    readonly dir: string,
    readonly flushBehavior: FlushBehavior,
    private readonly checkTopicFolder: () => void = () => undefined,
    private readonly holdsClaim: (partition: number) => boolean = () => true,
  ) {
    this.settler = new FolderSettler(dir);
  }

  /** Finishes, per partition as it is claimed, what an interrupted reset left (one folder listing for many loads). */
  private readonly settler: FolderSettler;

  /** Opens the offsets of `consumerName` in the topic at `topicDir` (TOPIC_NOT_FOUND if absent), creating its directory. */
  static open(topicDir: string, consumerName: string, opts: ConsumerOffsetsOptions = {}): ConsumerOffsets {
    if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
    const flushBehavior = opts.flushBehavior ?? 'buffered';
    if (!FLUSH_BEHAVIORS.includes(flushBehavior)) {
      throw new StorageError('BAD_CONFIG', `unknown flushBehavior ${JSON.stringify(flushBehavior)}`);
    }
    const dir = ensureConsumerDir(topicDir, consumerName, flushBehavior !== 'buffered');
    return new ConsumerOffsets(topicDir, consumerName, dir, flushBehavior, opts.checkTopicFolder, opts.holdsClaim);
  }

  /**
   * Last acknowledged id of `partition`, null if never acknowledged. Always re-reads the file (so call it after
   * acquiring the claim: it picks up a reset done meanwhile, and finishes one a crash interrupted). CORRUPTION if the
   * file is damaged beyond the torn-write cases (fix with `reset`).
   */
  load(partition: number): number | null {
    this.checkOpen();
    checkPartition(partition);
    this.settler.settle(partition);
    const file = join(this.dir, `${partitionStem(partition)}.offset`);
    const cached = this.open.get(partition);
    if (cached) {
      // A reset rewrites the file in place; re-read through our descriptor, unless the file was replaced/removed.
      let sameFile = false;
      try {
        const a = fs.fstatSync(cached.fd);
        const b = fs.statSync(file);
        sameFile = a.ino === b.ino && a.dev === b.dev;
      } catch {
        sameFile = false;
      }
      if (sameFile) {
        const state = interpretOffsetFile(readAll(cached.fd, file), file);
        cached.sequence = state.sequence;
        cached.value = state.lastAckedId === null ? 0 : state.lastAckedId + 1;
        cached.newestSlot = state.newestSlot;
        return state.lastAckedId;
      }
      this.open.delete(partition);
      fs.closeSync(cached.fd);
    }
    const o = openOffsetFile(file, partition);
    if (o === null) return null;
    this.open.set(partition, o);
    return o.value === 0 ? null : o.value - 1;
  }

  /**
   * Records that every event of `partition` up to `lastAckedId` is processed. Storing the current value again is a
   * no-op; a smaller one throws OUT_OF_RANGE (positions only move back through `reset`). Durable per flushBehavior.
   */
  store(partition: number, lastAckedId: number): void {
    let o = this.open.get(partition);
    if (o === undefined) {
      this.checkOpen();
      checkPartition(partition);
      checkAckedId(lastAckedId);
      const file = join(this.dir, `${partitionStem(partition)}.offset`);
      this.settler.settle(partition); // not loaded first: a reset a crash interrupted is finished here
      let opened = openOffsetFile(file, partition);
      if (opened === null) {
        // The first store creates the file whole, holding its value (fsynced, with its folder, unless 'buffered').
        this.checkTopicFolder();
        writeWholeOffsetFile(file, 1, lastAckedId + 1, this.flushBehavior !== 'buffered');
        opened = openOffsetFile(file, partition);
        if (opened === null) throw new StorageError('IO', `offset file ${file} vanished as it was created`, { file });
      }
      o = opened;
      try {
        this.checkTopicFolder();
      } catch (err) {
        fs.closeSync(o.fd);
        throw err;
      }
      this.open.set(partition, o);
    } else {
      if (this.closed) this.checkOpen();
      if (typeof lastAckedId !== 'number' || !Number.isSafeInteger(lastAckedId) || lastAckedId < 0) checkAckedId(lastAckedId);
    }
    const value = lastAckedId + 1;
    if (value === o.value) return;
    if (value < o.value) {
      throw new StorageError(
        'OUT_OF_RANGE',
        `acknowledgement of id ${lastAckedId} on partition ${partition} would move consumer ${JSON.stringify(this.consumerName)} back from ${o.value - 1}; use reset`,
        { file: o.file, partition, consumer: this.consumerName },
      );
    }
    // Deleted or replaced by another process? Checked at a bounded rate (a clock read per store, a stat per second).
    if (performance.now() >= o.nextCheck && !this.checkPath(o)) {
      throw new StorageError(
        'CONSUMER_BUSY',
        `consumer ${JSON.stringify(this.consumerName)} no longer holds partition ${partition}: its offset file was replaced and the acknowledgement of id ${lastAckedId} is not written`,
        { file: o.file, partition, consumer: this.consumerName, lost: true },
      );
    }
    writeNext(o, value, this.scratch);
    if (this.flushBehavior === 'immediate') syncOne(o);
  }

  /**
   * Makes sure the position reaches the file at the path: if the file was deleted or replaced (renamed over) since
   * it was opened, later stores would go to a file nobody reads and the position would be lost; the position this
   * consumer holds is put back at the path (a whole new file) and the descriptor moves to it.
   */
  private checkPath(o: OpenOffset): boolean {
    o.nextCheck = performance.now() + OFFSET_PATH_CHECK_MS;
    if (stillAtPath(o)) return true;
    this.checkTopicFolder(); // the topic itself was deleted: say that, put nothing back
    // Only the holder of the partition's claim may: a file put there by the consumer that took the claim over (or by
    // a reset done since) is not this one's to overwrite. The descriptor is dropped: nothing more goes anywhere.
    if (!this.holdsClaim(o.partition)) {
      this.open.delete(o.partition);
      try {
        fs.closeSync(o.fd);
      } catch {
        // nothing was lost: the file is another consumer's now
      }
      return false;
    }
    writeWholeOffsetFile(o.file, o.sequence + 1, o.value, this.flushBehavior !== 'buffered');
    const fresh = openOffsetFile(o.file, o.partition);
    if (fresh === null) throw new StorageError('IO', `offset file ${o.file} vanished as it was put back`, { file: o.file });
    try {
      fs.closeSync(o.fd);
    } catch {
      // the old descriptor wrote to a file nobody reads any more
    }
    Object.assign(o, fresh);
    return true;
  }

  /** fsyncs every offset file written since the last sync (what 'on_flush' relies on; harmless otherwise). */
  sync(): void {
    this.checkOpen();
    for (const o of this.open.values()) syncOne(o);
  }

  /**
   * Closes the files; a file deleted or replaced meanwhile gets the position put back first (call it while the
   * claims are held); with 'on_flush' and 'immediate', pending stores are fsynced. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    let first: unknown = null;
    for (const o of [...this.open.values()]) {
      try {
        if (!this.checkPath(o)) continue; // another consumer's now (closed by checkPath)
      } catch (err) {
        first ??= err;
      }
      try {
        if (this.flushBehavior !== 'buffered') syncOne(o);
      } catch (err) {
        first ??= err;
      }
      try {
        fs.closeSync(o.fd);
      } catch {
        // closing cannot lose data already written
      }
    }
    this.open.clear();
    this.closed = true;
    if (first) throw first;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `offsets of consumer ${JSON.stringify(this.consumerName)} are closed`);
  }

  /**
   * Every consumer name of the topic with its stored positions and currently claimed partitions, sorted by name.
   * A damaged offset file (CORRUPTION) is listed in `damaged` with the error's message, not thrown: a listing is what
   * a user looks at to find out what is wrong, and the other consumers and partitions are still worth seeing. (The
   * consumer itself still fails to open with CORRUPTION until a reset rewrites the file.)
   */
  static list(topicDir: string, opts: ManagementOptions = {}): ConsumerListing[] {
    checkTopicDir(topicDir);
    const entries = consumersRootEntries(topicDir);
    const out: ConsumerListing[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const name = decodeConsumerName(e.name);
      if (name === null) continue; // temp or tombstone entry
      const dir = join(consumersRoot(topicDir), e.name);
      const partitions = new Map<number, number | null>();
      const damaged = new Map<number, OffsetDamage>();
      const claimed: number[] = [];
      let files: string[];
      try {
        files = fs.readdirSync(dir);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        throw ioError(`cannot list ${dir}`, dir, cause);
      }
      // A reset a crash interrupted is listed as it will be once finished (by the next holder of each claim).
      let pending = new Map<number, string>();
      try {
        pending = pendingResetFiles(dir);
      } catch (err) {
        if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') throw err; // a damaged record: its consumer reports it
      }
      const read = (p: number, file: string): void => {
        try {
          // A pending file put in place meanwhile is read at the path.
          const state = readOffsetFile(file) ?? (pending.has(p) ? readOffsetFile(join(dir, `${partitionStem(p)}.offset`)) : null);
          if (state !== null) partitions.set(p, state.lastAckedId);
        } catch (err) {
          if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') throw err;
          damaged.set(p, { file, message: err.message });
        }
      };
      for (const f of files.sort()) {
        const p = parsePartitionFile(f, '.offset');
        if (p !== null && !pending.has(p)) read(p, join(dir, f));
        const c = claimEntryPartition(f); // an old-format leftover may sit beside the new folder: count once
        if (c !== null && !claimed.includes(c) && ConsumerClaims.isClaimed(topicDir, name, c, opts.staleMs)) claimed.push(c);
      }
      for (const [p, file] of pending) read(p, file);
      const byPartition = <V>(m: Map<number, V>): Map<number, V> => new Map([...m].sort((x, y) => x[0] - y[0]));
      out.push({ name, partitions: byPartition(partitions), damaged: byPartition(damaged), claimed });
    }
    out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    return out;
  }

  /**
   * Sets the position of a consumer that is not running on `partition`: `lastAckedId` is the last id considered
   * processed (null: nothing, the consumer restarts from the first stored event). It may move backwards or forwards.
   * Takes the partition's claim for the duration (CONSUMER_BUSY if a live consumer holds it) and puts a whole new
   * file in place (fsynced, renamed over the old one). Also repairs a CORRUPTION'd offset file.
   */
  static reset(topicDir: string, consumerName: string, partition: number, lastAckedId: number | null, opts: ManagementOptions = {}): void {
    ConsumerOffsets.resetMany(topicDir, consumerName, [[partition, lastAckedId]], opts);
  }

  /**
   * `reset` of several partitions, all or nothing: every claim is taken (CONSUMER_BUSY if one is held) and every new
   * file written and fsynced under a temporary name, then a record of the reset, before the first is renamed into
   * place (consumer-reset.ts); if a rename fails, the ones done are undone (the old files were kept under a second
   * name until the end). Any failure leaves every position as it was. A process killed once the record is written
   * leaves a reset that the next holder of each partition's claim (the consumer opening it, the next reset) finishes.
   */
  static resetMany(topicDir: string, consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAckedId: number | null]>, opts: ManagementOptions = {}): void {
    resetConsumerFiles(topicDir, consumerName, moves, opts.staleMs);
  }

  /**
   * Deletes a consumer name and all its positions. CONSUMER_BUSY if any of its partitions is claimed by a live
   * consumer. Returns false if there was no such consumer.
   */
  static remove(topicDir: string, consumerName: string, opts: ManagementOptions = {}): boolean {
    const dir = consumerDir(topicDir, consumerName);
    checkTopicDir(topicDir);
    if (!fs.existsSync(dir)) return false;
    const partitions = new Set<number>();
    for (const f of fs.readdirSync(dir)) {
      const p = parsePartitionFile(f, '.offset') ?? claimEntryPartition(f);
      if (p !== null) partitions.add(p);
    }
    const held: Claim[] = [];
    try {
      for (const p of [...partitions].sort((a, b) => a - b)) held.push(ConsumerClaims.tryAcquireSync(topicDir, consumerName, p, opts.staleMs));
      // Rename first (atomic: the name disappears at once, no half-deleted consumer is ever listed), then delete.
      const tomb = join(consumersRoot(topicDir), `.removed-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      try {
        fs.renameSync(dir, tomb);
      } catch (cause) {
        throw ioError(`cannot remove consumer directory ${dir}`, dir, cause);
      }
      for (const c of held.splice(0)) c.release(); // their folders moved with the tombstone: this only forgets them
      fs.rmSync(tomb, { recursive: true, force: true });
      return true;
    } finally {
      for (const c of held) c.release();
    }
  }
}
