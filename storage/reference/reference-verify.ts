// verify() of a reference-format partition. The format has no checksums: the check is structural (entries in
// order and contiguous, within the files, metadata length prefixes equal to the record sizes, metadata that parses
// as UTF-8 JSON); a torn or orphan tail is reported too.
import type { VerifyProblem } from '../types.js';
import type { ReferenceFiles } from './reference-files.js';
import { METADATA_PREFIX_BYTES, REFERENCE_ENTRY_BYTES, readU64, type ReferenceIndexEntry } from './reference-layout.js';

export function verifyReferencePartition(files: ReferenceFiles, partition: number): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const scan = files.scanTail(0);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const { metadataPath, dataPath } = files;
  let metadataExpected = 0;
  let dataExpected = 0;
  for (let id = 0; id < scan.committed; id++) {
    let e: ReferenceIndexEntry;
    try {
      e = files.entryAt(id);
    } catch (err) {
      problems.push({ file: files.indexPath, offset: id * REFERENCE_ENTRY_BYTES, id, message: (err as Error).message });
      continue;
    }
    if (e.metadataOffset !== metadataExpected) {
      problems.push({
        file: metadataPath, offset: e.metadataOffset, id,
        message: `metadata record starts at ${e.metadataOffset}, expected ${metadataExpected} (the previous record's end)`,
      });
    }
    if (e.dataOffset !== dataExpected) {
      problems.push({ file: dataPath, offset: e.dataOffset, id, message: `data starts at ${e.dataOffset}, expected ${dataExpected} (the previous event's end)` });
    }
    metadataExpected = e.metadataOffset + e.metadataSize;
    dataExpected = e.dataOffset + e.dataSize;
    if (e.dataOffset + e.dataSize > scan.dataBytes) {
      problems.push({ file: dataPath, offset: e.dataOffset, id, message: `data of ${e.dataSize} bytes points beyond the end of the file (${scan.dataBytes} bytes)` });
    }
    if (e.metadataSize < METADATA_PREFIX_BYTES || e.metadataOffset + e.metadataSize > scan.metadataBytes) {
      problems.push({ file: metadataPath, offset: e.metadataOffset, id, message: `metadata record of ${e.metadataSize} bytes is shorter than its prefix or points beyond the end of the file (${scan.metadataBytes} bytes)` });
      continue;
    }
    const record = files.metadata.slice(e.metadataOffset, e.metadataSize);
    if (record === null) {
      problems.push({ file: metadataPath, offset: e.metadataOffset, id, message: 'metadata record points beyond the end of the file' });
      continue;
    }
    const length = readU64(record, 0, metadataPath, e.metadataOffset);
    if (length !== e.metadataSize - METADATA_PREFIX_BYTES) {
      problems.push({ file: metadataPath, offset: e.metadataOffset, id, message: `metadata length prefix ${length} does not match the record size ${e.metadataSize} - 8` });
      continue;
    }
    try {
      JSON.parse(decoder.decode(record.subarray(METADATA_PREFIX_BYTES)));
    } catch (err) {
      problems.push({ file: metadataPath, offset: e.metadataOffset + METADATA_PREFIX_BYTES, id, message: `metadata is not valid UTF-8 JSON: ${(err as Error).message}` });
    }
  }
  if (files.describeTail(scan, partition) !== null) {
    const offsets = [scan.committed * REFERENCE_ENTRY_BYTES, scan.metadataEnd, scan.dataEnd];
    const sizes = [scan.indexBytes, scan.metadataBytes, scan.dataBytes];
    files.paths.forEach((file, k) => {
      if (sizes[k]! > offsets[k]!) {
        problems.push({
          file, offset: offsets[k]!,
          message: `${sizes[k]! - offsets[k]!} bytes past the last committed event (torn tail or orphan bytes of an interrupted write)`,
        });
      }
    });
  }
  return problems;
}
