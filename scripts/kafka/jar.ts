import { open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

/**
 * Just enough of the zip format to list a jar and read one entry, so the
 * harness does not depend on `unzip` or `jar` being installed. Kafka's jars are
 * far below the 4 GiB that would need zip64, so zip64 is rejected, not handled.
 */

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_MIN_SIZE = 22;
const MAX_COMMENT = 0xffff;

export interface JarEntry {
  name: string;
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

export async function listJar(jarPath: string): Promise<JarEntry[]> {
  const file = await open(jarPath, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, EOCD_MIN_SIZE + MAX_COMMENT);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);

    const eocd = tail.lastIndexOf(uint32(EOCD_SIGNATURE));
    if (eocd < 0) throw new Error(`${jarPath}: not a zip file`);
    const entryCount = tail.readUInt16LE(eocd + 10);
    const directorySize = tail.readUInt32LE(eocd + 12);
    const directoryOffset = tail.readUInt32LE(eocd + 16);
    if (entryCount === 0xffff || directoryOffset === 0xffffffff) {
      throw new Error(`${jarPath}: zip64 archives are not supported`);
    }

    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    return parseCentralDirectory(directory, entryCount, jarPath);
  } finally {
    await file.close();
  }
}

export async function readJarEntry(jarPath: string, entry: JarEntry): Promise<Buffer> {
  const file = await open(jarPath, 'r');
  try {
    const header = Buffer.alloc(30);
    await file.read(header, 0, 30, entry.localHeaderOffset);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
      throw new Error(`${jarPath}: bad local header for ${entry.name}`);
    }
    // The local header's name/extra lengths may differ from the central copy.
    const dataOffset = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const data = Buffer.alloc(entry.compressedSize);
    await file.read(data, 0, entry.compressedSize, dataOffset);
    if (entry.method === 0) return data;
    if (entry.method === 8) return inflateRawSync(data);
    throw new Error(`${jarPath}: unsupported compression method ${entry.method} for ${entry.name}`);
  } finally {
    await file.close();
  }
}

function parseCentralDirectory(directory: Buffer, entryCount: number, jarPath: string): JarEntry[] {
  const entries: JarEntry[] = [];
  let offset = 0;
  for (let i = 0; i < entryCount; i++) {
    if (directory.readUInt32LE(offset) !== CENTRAL_SIGNATURE) {
      throw new Error(`${jarPath}: corrupt central directory at entry ${i}`);
    }
    const nameLength = directory.readUInt16LE(offset + 28);
    const extraLength = directory.readUInt16LE(offset + 30);
    const commentLength = directory.readUInt16LE(offset + 32);
    entries.push({
      method: directory.readUInt16LE(offset + 10),
      compressedSize: directory.readUInt32LE(offset + 20),
      localHeaderOffset: directory.readUInt32LE(offset + 42),
      name: directory.toString('utf8', offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/** `org/apache/kafka/Foo.class` -> `org.apache.kafka.Foo`; undefined for non-classes. */
export function classNameOf(entryName: string): string | undefined {
  if (!entryName.endsWith('.class') || entryName.startsWith('META-INF/')) return undefined;
  return entryName.slice(0, -'.class'.length).replaceAll('/', '.');
}
