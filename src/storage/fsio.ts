import * as fs from 'node:fs';

// Thin promise wrappers over the callback fs API on raw fds (less overhead than FileHandle).

export function pOpen(file: string, flags: string): Promise<number> {
  return new Promise((res, rej) => fs.open(file, flags, 0o644, (e, fd) => (e ? rej(e) : res(fd))));
}
export function pClose(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res())));
}
export function pFdatasync(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
}
export function pFtruncate(fd: number, len: number): Promise<void> {
  return new Promise((res, rej) => fs.ftruncate(fd, len, (e) => (e ? rej(e) : res())));
}
export function pFstatSize(fd: number): Promise<number> {
  return new Promise((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st.size))));
}
function pReadOnce(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => fs.read(fd, buf, off, len, pos, (e, n) => (e ? rej(e) : res(n))));
}
/** Reads up to len bytes at pos (fewer only at end of file). */
export async function pReadFull(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  let done = 0;
  while (done < len) {
    const n = await pReadOnce(fd, buf, off + done, len - done, pos + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
function pWritevOnce(fd: number, bufs: Buffer[], pos: number): Promise<number> {
  return new Promise((res, rej) => fs.writev(fd, bufs, pos, (e, n) => (e ? rej(e) : res(n))));
}
/** Writes all buffers at pos, retrying short writes. */
export async function pWritevAll(fd: number, bufs: Buffer[], pos: number): Promise<void> {
  let total = 0;
  for (const b of bufs) total += b.length;
  let written = await pWritevOnce(fd, bufs, pos);
  while (written < total) {
    const n = await pWritevOnce(fd, unwritten(bufs, written), pos + written);
    if (n === 0) throw new Error('short write');
    written += n;
  }
}

/** Synchronous writev of all buffers at pos, retrying short writes (small appends only). */
export function writevAllSync(fd: number, bufs: Buffer[], pos: number, total: number): void {
  let written = fs.writevSync(fd, bufs, pos);
  while (written < total) {
    const n = fs.writevSync(fd, unwritten(bufs, written), pos + written);
    if (n === 0) throw new Error('short write');
    written += n;
  }
}

/** The part of bufs not yet written after a short write of `written` bytes. */
function unwritten(bufs: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
