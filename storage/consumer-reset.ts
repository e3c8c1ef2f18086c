// Moving a stopped consumer on several partitions at once, all or nothing, and finishing such a move that a crash
// interrupted. A reset, each step done (and fsynced) before the next:
//   1. the claim of every partition moved is taken (the lock offset files live under);
//   2. each new offset file is written whole under a temporary name (`.NNNNNNNN.offset.<pid>.<hex>.tmp`), and the old
//      one kept under a second name (hard link `NNNNNNNN.offset.old-<pid>-<hex>`: what an undo puts back);
//   3. the reset's record `reset-<pid>-<hex>.pending` (JSON: partition, temporary and old file of each move) is put
//      in place: the commit point;
//   4. the temporary files are renamed over the offset files, and the folder fsynced;
//   5. the record is removed, then the old files.
// A crash before 3 leaves only stray files: every position is the old one. After 3 the reset is decided: whoever next
// holds the claim of a partition the record lists (a consumer opening it, the next reset) first renames that
// partition's new file into place, so every position is the new one as soon as anything reads it under a claim; the
// listing (ConsumerOffsets.list) and the retention floor read the new file where it is not in place yet.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { join } from 'node:path';
import { ConsumerClaims, claimsTakenSoFar, type Claim } from './consumer-claims.js';
import { checkPartition, consumerDir, fsyncDir, partitionStem } from './consumer-name.js';
import { writeTempBeside } from './fs-helpers.js';
import { checkAckedId, interpretOffsetFile, ioError, offsetFilePath, readOffsetFile, wholeOffsetFile, type OffsetFileState } from './offset-file.js';
import { stampMeasure, stillThisTurn } from './size-trust.js';
import { StorageError } from './types.js';
import { sleepSync } from './writer-lock.js';

/**
 * Test hook: a process resetting kills itself with SIGKILL right after the step named: 'prepared' (every new file
 * and old-file link written, no record yet), 'committed' (the record in place, nothing renamed), 'renamed-1' (the
 * first new file renamed into place), 'renamed' (all of them, before the record and old files are removed). Inert
 * when unset.
 */
export const RESET_KILL_ENV = 'DIASPORA_TEST_RESET_KILL_AFTER';

function resetStepDone(step: 'prepared' | 'committed' | 'renamed-1' | 'renamed'): void {
  if (process.env[RESET_KILL_ENV] !== step) return;
  process.kill(process.pid, 'SIGKILL');
  for (;;) sleepSync(1000); // the signal is on its way: never go on to the next step
}

const RECORD = /^reset-[0-9]+-[0-9a-f]+\.pending$/;

/** One partition moved by a reset: file names in the consumer's folder. */
interface RecordedMove {
  partition: number;
  temp: string;
  backup: string | null;
}

interface ResetRecord {
  file: string;
  moves: RecordedMove[];
}

/** Temporary files (writeTempBeside) and old files of `stem`'s offset file; also a record's temporary file. */
function isLeftoverOf(name: string, stem: string): boolean {
  return name.startsWith(`.${stem}.offset.`) ? name.endsWith('.tmp') : name.startsWith(`${stem}.offset.old-`);
}

function leftoverPartition(name: string): number | null {
  const m = /^\.?([0-9]{8})\.offset\./.exec(name);
  return m !== null && isLeftoverOf(name, m[1]!) ? Number(m[1]) : null;
}

function listNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(`cannot list ${dir}`, dir, cause);
  }
}

function damagedRecord(file: string, why: string): StorageError {
  return new StorageError(
    'CORRUPTION',
    `reset record ${file} is damaged (${why}): a reset of this consumer was interrupted and cannot be finished; remove the file, then reset the consumer`,
    { file, offset: 0 },
  );
}

/** Parses a record; CORRUPTION if it is not one this code wrote (names are checked: a record never leads outside). */
function parseRecord(file: string, text: string): ResetRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw damagedRecord(file, 'not JSON');
  }
  const r = raw as { version?: unknown; moves?: unknown };
  if (r === null || typeof r !== 'object' || r.version !== 1 || !Array.isArray(r.moves)) throw damagedRecord(file, 'not a version 1 record');
  const moves: RecordedMove[] = [];
  for (const m of r.moves as Array<Partial<RecordedMove>>) {
    const p = m?.partition;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 99_999_999) throw damagedRecord(file, 'bad partition');
    const stem = partitionStem(p);
    if (typeof m.temp !== 'string' || !m.temp.startsWith(`.${stem}.offset.`) || !isLeftoverOf(m.temp, stem) || m.temp.includes('/')) throw damagedRecord(file, 'bad file name');
    const backup = m.backup ?? null;
    if (backup !== null && (typeof backup !== 'string' || !backup.startsWith(`${stem}.offset.old-`) || backup.includes('/'))) throw damagedRecord(file, 'bad file name');
    moves.push({ partition: p, temp: m.temp, backup });
  }
  return { file, moves };
}

/** The records of unfinished resets in a consumer's folder (`names`: its listing). */
function readRecords(dir: string, names: readonly string[]): ResetRecord[] {
  const out: ResetRecord[] = [];
  for (const n of names) {
    if (!RECORD.test(n)) continue;
    const file = join(dir, n);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue; // finished meanwhile
      throw ioError(`cannot read reset record ${file}`, file, cause);
    }
    out.push(parseRecord(file, text));
  }
  return out;
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(`cannot check ${file}`, file, cause);
  }
}

function removeIfPresent(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch (cause) {
    throw ioError(`cannot remove ${file}`, file, cause);
  }
}

/** Removes the records whose moves are all in place (nothing left to finish), then their old files. */
function dropFinishedRecords(dir: string, records: readonly ResetRecord[]): void {
  for (const r of records) {
    if (r.moves.some((m) => exists(join(dir, m.temp)))) continue;
    removeIfPresent(r.file);
    for (const m of r.moves) if (m.backup !== null) removeIfPresent(join(dir, m.backup));
  }
}

/**
 * Call holding the claim of `partition`: puts in place the new offset file of a reset that a crash interrupted after
 * its commit point, removes that partition's stray temporary and old files (nobody else writes them while the claim
 * is held), and removes the records of resets nothing is left to finish. CORRUPTION for a damaged record; IO.
 */
export function settlePartition(dir: string, partition: number, listing?: readonly string[]): void {
  const names = listing ?? listNames(dir);
  const stem = partitionStem(partition);
  if (!names.some((n) => RECORD.test(n) || isLeftoverOf(n, stem))) return; // the usual case: one readdir
  const records = readRecords(dir, names);
  let moved = false;
  for (const r of records) {
    const m = r.moves.find((x) => x.partition === partition);
    if (m === undefined) continue;
    try {
      fs.renameSync(join(dir, m.temp), join(dir, `${stem}.offset`));
      moved = true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot finish an interrupted reset of ${join(dir, `${stem}.offset`)}`, join(dir, `${stem}.offset`), cause);
    }
  }
  if (moved) fsyncDir(dir);
  for (const n of names) if (isLeftoverOf(n, stem)) removeIfPresent(join(dir, n));
  dropFinishedRecords(dir, records);
}

/**
 * The position of `partition` as a consumer claiming it would find it: the new file of an interrupted reset that is
 * not in place yet, else the offset file (null if neither exists). CORRUPTION for a damaged file or record.
 */
export function readConsumerPosition(topicDir: string, consumerName: string, partition: number): OffsetFileState | null {
  const file = offsetFilePath(topicDir, consumerName, partition);
  const pending = pendingThisTurn(consumerDir(topicDir, consumerName)).get(partition);
  if (pending !== undefined) {
    try {
      return interpretOffsetFile(fs.readFileSync(pending), pending);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause instanceof StorageError ? cause : ioError(`cannot read ${pending}`, pending, cause);
      // put in place meanwhile: the offset file holds it now
    }
  }
  return readOffsetFile(file);
}

/**
 * settlePartition for the many partitions a consumer loads at once, with one listing of its folder for all of them
 * instead of one each (a consumer of 1,000 partitions read a million names). A listing serves until this thread takes
 * another claim: what an interrupted reset left for a partition was put there by an earlier holder of its claim,
 * before the caller took that claim, so a listing made since shows it. Settling one partition changes only its own
 * files and records (a record gone meanwhile is skipped).
 */
export class FolderSettler {
  private listing: readonly string[] | null = null;
  private listedAt = -1;

  constructor(private readonly dir: string) {}

  /** Call holding the claim of `partition` (see settlePartition). */
  settle(partition: number): void {
    const taken = claimsTakenSoFar();
    if (this.listing === null || this.listedAt !== taken) {
      this.listing = listNames(this.dir);
      this.listedAt = taken;
    }
    settlePartition(this.dir, partition, this.listing);
  }
}

// pendingResetFiles per folder for the current turn of the event loop: a trim of every partition (synchronous) reads
// each consumer's position on each partition, and a listing each time made a trim of 1,000 partitions twice as slow.
// A reset committed in another process during the turn is seen at the next one: as if it had come a moment later,
// which a trim (it does not exclude resets) can meet anyway.
let pendingTurn = -1;
const pendingByFolder = new Map<string, Map<number, string>>();

function pendingThisTurn(dir: string): Map<number, string> {
  if (!stillThisTurn(pendingTurn)) {
    pendingByFolder.clear();
    pendingTurn = stampMeasure();
  }
  let pending = pendingByFolder.get(dir);
  if (pending === undefined) pendingByFolder.set(dir, (pending = pendingResetFiles(dir)));
  return pending;
}

/** Partition -> new offset file of an interrupted reset, not in place yet. CORRUPTION for a damaged record. */
export function pendingResetFiles(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  const names = listNames(dir);
  for (const r of readRecords(dir, names)) {
    for (const m of r.moves) if (names.includes(m.temp)) out.set(m.partition, join(dir, m.temp));
  }
  return out;
}

/**
 * The partitions other than `mine` that an interrupted reset left something on: each one that no live consumer holds
 * is settled under its claim (a held one was settled by its holder when it claimed it).
 */
function settleOthers(topicDir: string, consumerName: string, dir: string, mine: ReadonlySet<number>, staleMs: number | undefined): void {
  const names = listNames(dir);
  const others = new Set<number>();
  for (const n of names) {
    const p = leftoverPartition(n);
    if (p !== null) others.add(p);
  }
  for (const r of readRecords(dir, names)) for (const m of r.moves) others.add(m.partition);
  for (const p of [...others].sort((a, b) => a - b)) {
    if (mine.has(p)) continue;
    let claim: Claim;
    try {
      claim = ConsumerClaims.tryAcquireSync(topicDir, consumerName, p, staleMs);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'CONSUMER_BUSY') continue;
      throw err;
    }
    try {
      settlePartition(dir, p);
    } finally {
      claim.release();
    }
  }
}

interface Staged {
  partition: number;
  file: string;
  temp: string | null;
  backup: string | null;
  renamed: boolean;
}

/** The record of `staged` put in place (fsynced, then its folder): from here on the reset is finished, not undone. */
function commit(dir: string, staged: readonly Staged[]): string {
  const record = join(dir, `reset-${process.pid}-${crypto.randomBytes(6).toString('hex')}.pending`);
  const moves = staged.map((s) => ({ partition: s.partition, temp: s.temp!.slice(dir.length + 1), backup: s.backup === null ? null : s.backup.slice(dir.length + 1) }));
  // Its temporary file is named like one of the first partition's (whose claim is held): a crash leaves it as a
  // stray file of that partition, removed with the others.
  const temp = writeTempBeside(staged[0]!.file, JSON.stringify({ version: 1, moves }));
  try {
    fs.renameSync(temp, record);
  } catch (cause) {
    fs.rmSync(temp, { force: true });
    throw ioError(`cannot write reset record ${record}`, record, cause);
  }
  try {
    fsyncDir(dir);
  } catch (err) {
    fs.rmSync(record, { force: true }); // not known durable: the reset fails before anything is switched
    throw err;
  }
  return record;
}

/**
 * Sets the positions of a consumer that is not running, all or nothing (ConsumerOffsets.resetMany): every claim is
 * taken (CONSUMER_BUSY if one is held), what an interrupted reset left is settled first, then the steps above. A
 * failure before the record leaves every position as it was; a rename that fails after it undoes the renames done.
 */
export function resetConsumerFiles(
  topicDir: string, consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAckedId: number | null]>, staleMs?: number,
): void {
  for (const [partition, lastAckedId] of moves) {
    checkPartition(partition);
    if (lastAckedId !== null) checkAckedId(lastAckedId);
  }
  if (new Set(moves.map((m) => m[0])).size !== moves.length) throw new StorageError('OUT_OF_RANGE', 'a partition is given twice');
  const sorted = [...moves].sort((a, b) => a[0] - b[0]);
  const dir = consumerDir(topicDir, consumerName);
  const held: Claim[] = [];
  const staged: Staged[] = [];
  let record: string | null = null;
  try {
    for (const [p] of sorted) held.push(ConsumerClaims.tryAcquireSync(topicDir, consumerName, p, staleMs));
    for (const [p] of sorted) settlePartition(dir, p);
    settleOthers(topicDir, consumerName, dir, new Set(sorted.map((m) => m[0])), staleMs);
    // Prepare: every new file whole under a temporary name (a damaged old file is replaced, its sequence restarts).
    for (const [p, lastAckedId] of sorted) {
      const file = offsetFilePath(topicDir, consumerName, p);
      let sequence = 0;
      try {
        sequence = readOffsetFile(file)?.sequence ?? 0;
      } catch (err) {
        if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') throw err;
      }
      const entry: Staged = { partition: p, file, temp: null, backup: null, renamed: false };
      staged.push(entry);
      try {
        entry.temp = writeTempBeside(file, wholeOffsetFile(sequence + 1, lastAckedId === null ? 0 : lastAckedId + 1));
      } catch (cause) {
        throw ioError(`cannot write offset file ${file}`, file, cause);
      }
      // The old file stays reachable under a second name until every rename is done: what an undo puts back.
      const backup = `${file}.old-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
      try {
        fs.linkSync(file, backup);
        entry.backup = backup;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot keep offset file ${file} during a reset`, file, cause);
      }
    }
    if (staged.length === 0) return;
    resetStepDone('prepared');
    record = commit(dir, staged);
    resetStepDone('committed');
    // Switch: renames only.
    try {
      for (const s of staged) {
        fs.renameSync(s.temp!, s.file);
        s.renamed = true;
        resetStepDone('renamed-1');
      }
    } catch (cause) {
      const failed = staged.find((s) => !s.renamed)?.file ?? topicDir;
      undo(staged);
      throw ioError(`cannot reset consumer ${JSON.stringify(consumerName)}`, failed, cause);
    }
    fsyncDir(dir);
    resetStepDone('renamed');
  } finally {
    cleanUp(staged, record);
    let first: unknown = null;
    for (const c of held) {
      try {
        c.release();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }
}

/** Puts back the old files of the partitions already switched (a rename failed: the reset fails as a whole). */
function undo(staged: Staged[]): void {
  for (const s of staged) {
    if (!s.renamed) continue;
    try {
      if (s.backup !== null) fs.renameSync(s.backup, s.file);
      else fs.rmSync(s.file, { force: true });
      s.backup = null;
      s.renamed = false;
    } catch {
      // nothing better to do: the error thrown names the reset that failed
    }
  }
}

/**
 * Removes the new files not switched in (first: then the record can no longer finish them), the record, the old
 * files. What cannot be removed is a stray file the next holder of that partition's claim removes.
 */
function cleanUp(staged: readonly Staged[], record: string | null): void {
  const remove = (f: string | null): void => {
    if (f === null) return;
    try {
      fs.rmSync(f, { force: true });
    } catch {
      // left for the next holder of the claim (settlePartition)
    }
  };
  for (const s of staged) if (!s.renamed) remove(s.temp);
  remove(record);
  for (const s of staged) remove(s.backup);
}
