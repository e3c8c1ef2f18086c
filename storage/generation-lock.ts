// A lock that is never broken by deleting it: its state is a sequence of numbered generations in a folder, and
// the current state is the file with the highest number. Each generation file is immutable and appears complete
// (written to a temp file first, then published with link(2), which fails with EEXIST if the name exists), and
// says "held by <process identity + token>" or "free". Taking the lock from a free or dead-held generation g means
// publishing g+1: link() lets exactly one contender do that. Releasing means publishing g+1 as "free".
//
// Why it is race-free (details in docs/locks.md):
// - A file is only ever removed once a higher generation exists, lower ones first, so the highest number never
//   decreases. A contender whose g+1 had already existed and been cleaned up (it was slow) finds a higher one or
//   the g it read gone or changed, removes its own g+1 and retries; nobody ever builds on a stale file.
// - A held generation is only taken over once its holder is dead: a live holder's lock is never taken.
// - Listing the folder relies on one getdents(2) call being atomic with respect to link/unlink in the folder
//   (they exclude each other on the folder's inode lock, on Linux local filesystems); the folder stays tiny.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { currentProcessIdentity, isProcessDead, type ProcessIdentity } from './process-liveness.js';
import { mkdirIfMissing } from './fs-helpers.js';

const GEN_DIGITS = 16;
const GEN_RE = /^[0-9]{16}$/;
const TMP_PREFIX = '.tmp-';
/** A contender that keeps losing to others this many times in one attempt reports the lock busy. */
const MAX_TRIES = 64;

/** Distinguishes this module instance (one per thread) from others of the same process. */
const INSTANCE = randomBytes(6).toString('hex');
let tmpSerial = 0;
const readBuffer = Buffer.allocUnsafe(4096);

export interface LockRecord extends ProcessIdentity {
  /** 'unknown': a record this version cannot read, treated as held by a live holder. */
  state: 'held' | 'free' | 'unknown';
  /** Module instance (thread) of the process that wrote the record. */
  owner: string;
  /** Unique per record: tells this generation apart from any other, even in a re-created folder. */
  token: string;
  /** When the record was written (ms since the epoch), for people reading the folder. */
  at: number;
}

/** What a holder needs to release: its generation, its record's token and a prepared "free" record. */
export interface Lease {
  readonly gen: number;
  readonly token: string;
  /** Written at acquire time so that releasing needs no new disk space (a full disk must not wedge the lock). */
  readonly freeTmp: string;
}

export type TakeResult =
  | { taken: true; lease: Lease }
  | { taken: false; gen: number; holder: LockRecord | null };

export function genName(gen: number): string {
  return String(gen).padStart(GEN_DIGITS, '0');
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

function newRecord(state: 'held' | 'free'): LockRecord {
  return { state, ...currentProcessIdentity(), owner: INSTANCE, token: randomBytes(9).toString('base64url'), at: Date.now() };
}

/**
 * The record in a generation file; null if it is not JSON at all (only a machine crash can leave that: the file is
 * complete when it appears). A JSON record this version does not understand (a newer version's?) is 'unknown':
 * held by someone, never taken over.
 */
function parseRecord(text: string): LockRecord | null {
  let r: LockRecord;
  try {
    r = JSON.parse(text) as LockRecord;
  } catch {
    return null;
  }
  if (r === null || typeof r !== 'object') return null;
  const known = (r.state === 'free' || (r.state === 'held' && Number.isInteger(r.pid) && r.pid > 0)) && typeof r.token === 'string';
  return known ? r : { ...r, state: 'unknown' };
}

/** True when the record was written by this module instance (this thread of this process). */
export function isFromThisInstance(r: LockRecord): boolean {
  return r.owner === INSTANCE && r.pid === process.pid;
}

/** A held record whose holder is certainly gone, or a record that cannot be read (only a crash can leave one). */
export function isAbandoned(r: LockRecord | null): boolean {
  return r === null || (r.state === 'held' && isProcessDead(r));
}

/** The state as read: the highest generation, its exact text and its record (null: unreadable). */
export interface Snapshot {
  readonly gen: number;
  readonly text: string;
  readonly record: LockRecord | null;
}

interface Listing {
  max: number;
  /** Generations below max, ascending. */
  lower: number[];
  tmps: string[];
}

export class GenerationLock {
  /** `dir` is the lock folder; it is created (not its parents) when missing. */
  constructor(readonly dir: string) {}

  private file(gen: number): string {
    return path.join(this.dir, genName(gen));
  }

  /** The folder's generations; null if the folder does not exist. */
  private list(): Listing | null {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
    const gens: number[] = [];
    const tmps: string[] = [];
    for (const n of names) {
      if (GEN_RE.test(n)) gens.push(Number(n));
      else if (n.startsWith(TMP_PREFIX)) tmps.push(n);
    }
    gens.sort((a, b) => a - b);
    const max = gens.pop() ?? 0;
    return { max, lower: gens, tmps };
  }

  /** A record's exact text (null if the generation does not exist). One read: records are a few hundred bytes. */
  private readText(gen: number): string | null {
    const file = this.file(gen);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
    try {
      const n = fs.readSync(fd, readBuffer, 0, readBuffer.length, 0);
      return n < readBuffer.length ? readBuffer.toString('utf8', 0, n) : fs.readFileSync(file, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Writes `record` to a new temp file in the folder (not yet visible as a generation). */
  private prepare(record: LockRecord): string {
    const tmp = path.join(this.dir, `${TMP_PREFIX}${process.pid}-${INSTANCE}-${++tmpSerial}`);
    try {
      fs.writeFileSync(tmp, JSON.stringify(record), { flag: 'wx' });
    } catch (err) {
      unlinkQuietly(tmp);
      throw err;
    }
    return tmp;
  }

  /** Publishes a prepared record as generation `gen`: false if that generation exists already. */
  private publish(tmp: string, gen: number): boolean {
    try {
      fs.linkSync(tmp, this.file(gen));
      return true;
    } catch (err) {
      if (code(err) === 'EEXIST') return false;
      throw err;
    }
  }

  /**
   * The highest generation and its exact text. A missing or empty folder is 'unused', or, with `create`, created
   * and initialized first. Null only if the folder keeps changing under us.
   */
  private snapshot(create: boolean): Snapshot | 'unused' | null {
    for (let i = 0; i < MAX_TRIES; i++) {
      const l = this.list();
      if (l === null || l.max === 0) {
        if (!create) return 'unused';
        if (l === null) mkdirIfMissing(this.dir);
        else this.initialize();
        continue;
      }
      const text = this.readText(l.max);
      if (text === null) continue; // superseded meanwhile: a higher generation exists now
      return { gen: l.max, text, record: parseRecord(text) };
    }
    return null;
  }

  /** The current state, read-only: highest generation and its record (null: unreadable); null if never used. */
  current(): { gen: number; record: LockRecord | null } | null {
    const s = this.snapshot(false);
    if (s === null) throw new Error(`lock folder ${this.dir} keeps changing`);
    return s === 'unused' ? null : s;
  }

  /**
   * Reads the current state, creating and initializing the folder when needed: the highest generation and its
   * exact text (takeFrom() checks that it is unchanged). Null only if the folder keeps changing under us.
   */
  look(): Snapshot | null {
    const s = this.snapshot(true);
    return s === 'unused' ? null : s;
  }

  /**
   * Publishes generation s.gen+1 as held by us, where `s` was free or abandoned when looked at. Null when another
   * contender got there first, or when our generation turned out stale: s.gen+1 had existed and been cleaned up
   * while we were slow (a higher generation exists then), or the folder was re-created (s.gen is gone or
   * replaced). A stale generation of ours is removed at once; nobody builds on it meanwhile (it reads as held
   * by a live process).
   */
  takeFrom(s: Snapshot): Lease | null {
    const held = newRecord('held');
    let heldTmp: string | null = null;
    let freeTmp: string | null = null;
    try {
      try {
        heldTmp = this.prepare(held);
        freeTmp = this.prepare(newRecord('free'));
        if (!this.publish(heldTmp, s.gen + 1)) return null;
      } catch (err) {
        if (code(err) === 'ENOENT') return null; // the folder went away meanwhile
        throw err;
      }
      const after = this.list();
      if (after === null || after.max !== s.gen + 1 || this.readText(s.gen) !== s.text) {
        unlinkQuietly(this.file(s.gen + 1));
        return null;
      }
      this.cleanUp(after, s.gen + 1);
      const lease: Lease = { gen: s.gen + 1, token: held.token, freeTmp };
      freeTmp = null; // the lease owns it now
      return lease;
    } finally {
      if (heldTmp !== null) unlinkQuietly(heldTmp);
      if (freeTmp !== null) unlinkQuietly(freeTmp);
    }
  }

  /**
   * One attempt to take the lock. A held generation is taken over only when `isAbandoned` (holder dead) or when
   * `mayTake` says so (e.g. an orphan of this very thread); otherwise the result names the holder.
   */
  tryTake(mayTake: (r: LockRecord) => boolean = () => false): TakeResult {
    let last: { gen: number; holder: LockRecord | null } = { gen: 0, holder: null };
    for (let i = 0; i < MAX_TRIES; i++) {
      const s = this.look();
      if (s === null) break;
      last = { gen: s.gen, holder: s.record };
      const r = s.record;
      if (r !== null && r.state !== 'free' && !isAbandoned(r) && !mayTake(r)) break;
      const lease = this.takeFrom(s);
      if (lease !== null) return { taken: true, lease };
    }
    return { taken: false, ...last };
  }



  /** A folder never used: generation 1 is published as "free" (by exactly one contender; the others see it). */
  private initialize(): void {
    let tmp: string;
    try {
      tmp = this.prepare(newRecord('free'));
    } catch (err) {
      if (code(err) === 'ENOENT') return; // the folder went away: the caller's next look re-creates it
      throw err;
    }
    try {
      this.publish(tmp, 1);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    } finally {
      unlinkQuietly(tmp);
    }
  }

  /** Removes generations below ours (ascending: the invariant above needs it) and temp files of dead processes. */
  private cleanUp(l: Listing, ours: number): void {
    for (const g of l.lower) if (g < ours) unlinkQuietly(this.file(g));
    for (const t of l.tmps) {
      const pid = Number(t.slice(TMP_PREFIX.length).split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessDead({ pid, start: null })) {
        unlinkQuietly(path.join(this.dir, t));
      }
    }
  }

  /** True while `lease`'s generation is the current state and is still our record. */
  holds(lease: Lease): boolean {
    const l = this.list();
    if (l === null || l.max !== lease.gen) return false;
    const text = this.readText(lease.gen);
    return text !== null && parseRecord(text)?.token === lease.token;
  }

  /**
   * Publishes generation gen+1 as "free". Returns false (touching nothing) if the lease was no longer ours: taken
   * over, or the folder removed or re-created.
   */
  release(lease: Lease): boolean {
    let retryable = false;
    try {
      const text = this.readText(lease.gen);
      if (text === null || parseRecord(text)?.token !== lease.token) return false;
      if (!this.publish(lease.freeTmp, lease.gen + 1)) return false;
      unlinkQuietly(this.file(lease.gen));
      return true;
    } catch (err) {
      if (code(err) === 'ENOENT') return false;
      // EMFILE, EIO...: nothing was published; the prepared record stays, so that the release can be tried again.
      retryable = true;
      throw err;
    } finally {
      if (!retryable) unlinkQuietly(lease.freeTmp);
    }
  }

  /** Forgets a lease known to be lost (its prepared record only). */
  abandon(lease: Lease): void {
    unlinkQuietly(lease.freeTmp);
  }
}
