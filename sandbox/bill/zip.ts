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

/** The zip's bytes, produced as the entries' contents are read. */
export async function* zipBytes(entries: ZipEntryInput[]): AsyncGenerator<Buffer> {
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const { time, date } = dosTime(entry.modified ?? new Date());
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 6);
    local.writeUInt16LE(METHOD_DEFLATE, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // crc and sizes are 0 here: they follow the data in the descriptor.
    local.writeUInt16LE(entry.name.length, 26);
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
    cd.writeUInt16LE(VERSION, 4);
    cd.writeUInt16LE(VERSION, 6);
    cd.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 8);
    cd.writeUInt16LE(METHOD_DEFLATE, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(compressed, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(entry.name.length, 28);
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
