/**
 * Just enough of ZIP to read PyTorch checkpoints: the central directory (ZIP64 included, for
 * files over 4 GB) and stored (uncompressed) entries, located by positional reads.
 */
import { fail } from "./errors";
import { type ByteSource, checkRange, sliceSource } from "./source";

export interface ZipEntry {
  name: string;
  size: number;
  /** Offset of the entry's data in the zip file. */
  dataOffset: number;
}

export interface ZipArchive {
  entries: Map<string, ZipEntry>;
  /** The stored entry as a byte source of its own. */
  open(name: string): ByteSource;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

export async function readZip(source: ByteSource): Promise<ZipArchive> {
  const bad = (what: string): never =>
    fail("LORA_BAD_ZIP", `${source.name}: ${what}`, "the checkpoint is truncated or not a PyTorch zip file");
  if (source.size < 22) bad(`${source.size} bytes is too short for a zip file`);
  const tailLength = Math.min(source.size, 22 + 65535);
  const tail = await source.read(source.size - tailLength, tailLength);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad("no end-of-central-directory record (truncated download?)");
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdPos = source.size - tailLength + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) bad("ZIP64 locator missing");
    const loc = view(await source.read(eocdPos - 20, 20));
    if (loc.getUint32(0, true) !== EOCD64_LOCATOR_SIG) bad("ZIP64 locator missing");
    const eocd64Pos = safe(loc.getBigUint64(8, true), "ZIP64 record offset", bad);
    checkRange(source, eocd64Pos, 56, "ZIP64 end of central directory");
    const r = view(await source.read(eocd64Pos, 56));
    if (r.getUint32(0, true) !== EOCD64_SIG) bad(`no ZIP64 record at offset ${eocd64Pos}`);
    count = safe(r.getBigUint64(32, true), "entry count", bad);
    cdSize = safe(r.getBigUint64(40, true), "central directory size", bad);
    cdOffset = safe(r.getBigUint64(48, true), "central directory offset", bad);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) bad(`central directory of ${cdSize} bytes is implausible`);
  if (cdOffset + cdSize > source.size) {
    fail(
      "LORA_TRUNCATED",
      `${source.name}: central directory at ${cdOffset}+${cdSize} lies past the end (${source.size} bytes)`,
      "the file is truncated: download it again",
    );
  }
  const cd = await source.read(cdOffset, cdSize);
  const cv = view(cd);
  const entries = new Map<string, ZipEntry>();
  const pending: { name: string; size: number; localOffset: number; method: number; compressed: number }[] =
    [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.byteLength || cv.getUint32(p, true) !== CENTRAL_SIG)
      bad(`central directory entry ${i} is corrupt`);
    const method = cv.getUint16(p + 10, true);
    let compressed = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.byteLength)
      bad(`central directory entry ${i} overruns`);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 0xffffffff fields, in order size, compressed, offset
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = cv.getUint16(q, true);
      const len = cv.getUint16(q + 2, true);
      if (id === 0x0001) {
        let f = q + 4;
        const next = () => {
          if (f + 8 > q + 4 + len) bad(`ZIP64 field of ${name} is short`);
          const v = safe(cv.getBigUint64(f, true), "ZIP64 field", bad);
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      q += 4 + len;
    }
    pending.push({ name, size, localOffset, method, compressed });
    p = extraEnd + commentLen;
  }
  for (const e of pending) {
    checkRange(source, e.localOffset, 30, `local header of ${e.name}`);
    const lh = view(await source.read(e.localOffset, 30));
    if (lh.getUint32(0, true) !== LOCAL_SIG) bad(`no local header for ${e.name} at ${e.localOffset}`);
    const dataOffset = e.localOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
    entries.set(e.name, {
      name: e.name,
      size: e.size,
      dataOffset,
      method: e.method,
      compressed: e.compressed,
    } as ZipEntry);
  }
  return {
    entries,
    open(name) {
      const e = entries.get(name) as (ZipEntry & { method: number; compressed: number }) | undefined;
      if (!e) return bad(`entry ${name} is missing`);
      if (e.method !== 0 || e.compressed !== e.size) {
        fail(
          "LORA_ZIP_COMPRESSED",
          `${source.name}: entry ${name} is compressed (method ${e.method}); PyTorch checkpoints store entries uncompressed`,
          "re-save the checkpoint with torch.save (do not re-zip it)",
        );
      }
      return sliceSource(source, e.dataOffset, e.size, `${source.name}:${name}`);
    },
  };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safe(v: bigint, what: string, bad: (w: string) => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} ${v} is too large`);
  return Number(v);
}
