// A streaming zip writer whose entry names are raw bytes. Alipay's bill zips carry GBK-encoded entry
// names without the zip "UTF-8 name" flag (general purpose bit 11); the zip libraries on npm (yazl,
// archiver/zip-stream) always write UTF-8 names and set that flag, so they cannot produce the file a
// merchant really receives. This writer does only what that file needs: deflate, data descriptors
// (sizes follow the data, so nothing is buffered), no zip64 (bills are far below 4 GiB).
import { Readable } from "node:stream";
import { createDeflateRaw, crc32 } from "node:zlib";

export interface ZipEntryInput {
  /** The entry name exactly as stored (e.g. GBK bytes). */
  name: Buffer;
  content: AsyncIterable<Buffer> | Iterable<Buffer>;
  /** DOS timestamp of the entry (local time fields taken as given). */
  modified?: Date;
}

const FLAG_DATA_DESCRIPTOR = 0x0008;
const METHOD_DEFLATE = 8;
const VERSION = 20;

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/**
 * The fields a local file header and its central directory record share, in the same order (the
 * local header has them from byte 4, the central record from byte 6, after "version made by"):
 * version needed, flags, method, DOS time and date, crc-32, compressed and uncompressed size, name length.
 */
function writeEntryFields(buf: Buffer, at: number, f: { time: number; date: number; crc: number; compressed: number; size: number; nameLength: number }): void {
  buf.writeUInt16LE(VERSION, at);
  buf.writeUInt16LE(FLAG_DATA_DESCRIPTOR, at + 2);
  buf.writeUInt16LE(METHOD_DEFLATE, at + 4);
  buf.writeUInt16LE(f.time, at + 6);
  buf.writeUInt16LE(f.date, at + 8);
  buf.writeUInt32LE(f.crc >>> 0, at + 10);
  buf.writeUInt32LE(f.compressed, at + 14);
  buf.writeUInt32LE(f.size, at + 18);
  buf.writeUInt16LE(f.nameLength, at + 22);
}

/** The zip's bytes, produced as the entries' contents are read. */
export async function* zipBytes(entries: ZipEntryInput[]): AsyncGenerator<Buffer> {
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const { time, date } = dosTime(entry.modified ?? new Date());
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    // crc and sizes are 0 here: they follow the data in the descriptor.
    writeEntryFields(local, 4, { time, date, crc: 0, compressed: 0, size: 0, nameLength: entry.name.length });
    const header = Buffer.concat([local, entry.name]);
    yield header;
    const entryOffset = offset;
    offset += header.length;

    let crc = 0;
    let size = 0;
    let compressed = 0;
    const deflate = createDeflateRaw({ level: 6 });
    const source = Readable.from(
      (async function* () {
        for await (const chunk of entry.content) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          yield chunk;
        }
      })(),
    );
    source.on("error", (e) => deflate.destroy(e));
    source.pipe(deflate);
    for await (const out of deflate as AsyncIterable<Buffer>) {
      compressed += out.length;
      yield out;
    }
    offset += compressed;

    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    descriptor.writeUInt32LE(compressed, 8);
    descriptor.writeUInt32LE(size, 12);
    yield descriptor;
    offset += descriptor.length;

    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(VERSION, 4); // version made by
    writeEntryFields(cd, 6, { time, date, crc, compressed, size, nameLength: entry.name.length });
    cd.writeUInt32LE(entryOffset, 42);
    central.push(cd, entry.name);
  }
  const directory = Buffer.concat(central);
  yield directory;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  yield end;
}
