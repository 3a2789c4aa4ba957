import * as fs from 'node:fs';
import { syncThreads } from './sync-threads.js';

// Thin promise wrappers over the callback fs API on raw fds (less overhead than FileHandle);
// fdatasync runs on Fjord's own threads (sync-threads.ts), not libuv's shared pool.
//
// Fault seam: every segment write, fdatasync and free-space probe of the storage goes through
// this module, so a test can make the real broker see ENOSPC, EIO or a small disk
// (injectFsFaults) without mocking anything above the file layer.

/** A fault to raise instead of (part of) a write: `partialBytes` are really written first. */
export interface WriteFault {
  error: NodeJS.ErrnoException;
  partialBytes?: number;
}

export interface FsFaults {
  /** Called before each segment write; return a fault to fail it. */
  write?(file: string, bytes: number): WriteFault | undefined;
  /** Called before each fdatasync of a segment; return an error to fail it. */
  sync?(file: string): NodeJS.ErrnoException | undefined;
  /** Free bytes to report for a directory instead of statfs (undefined: the real value). */
  freeBytes?(dir: string): number | undefined;
}

let faults: FsFaults | undefined;
/** fd -> path, kept only while faults are injected (to tell tests which file an fd is). */
const fdPaths = new Map<number, string>();

/** Test seam: makes the storage's file layer fail as described (undefined: no faults). */
export function injectFsFaults(f: FsFaults | undefined): void {
  faults = f;
}

/** An fs-style error with a code, as the kernel would raise it. */
export function fsError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected fault, ${syscall} '${file}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  e.path = file;
  return e;
}

/** Records an fd's path for the fault seam (segment files opened synchronously call this). */
export function trackFd(fd: number, file: string): void {
  fdPaths.set(fd, file);
}

export function pOpen(file: string, flags: string): Promise<number> {
  return new Promise((res, rej) =>
    fs.open(file, flags, 0o644, (e, fd) => {
      if (e) return rej(e);
      fdPaths.set(fd, file);
      res(fd);
    }),
  );
}
/** Closes synchronously; errors are ignored (the data was fsynced, or its failure reported). */
export function closeQuietlySync(fd: number): void {
  fdPaths.delete(fd);
  try {
    fs.closeSync(fd);
  } catch {
    // best effort
  }
}
export function pClose(fd: number): Promise<void> {
  fdPaths.delete(fd);
  return new Promise((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res())));
}
export function pFdatasync(fd: number): Promise<void> {
  const injected = faults?.sync?.(fdPaths.get(fd) ?? '');
  if (injected) return Promise.reject(injected);
  return syncThreads.fdatasync(fd, libuvFdatasync);
}
function libuvFdatasync(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
}

/** Free bytes available to unprivileged writers on the file system holding dir. */
export function pFreeBytes(dir: string): Promise<number> {
  const injected = faults?.freeBytes?.(dir);
  if (injected !== undefined) return Promise.resolve(injected);
  return new Promise((res, rej) => fs.statfs(dir, (e, st) => (e ? rej(e) : res(st.bavail * st.bsize))));
}

/** Applies an injected write fault: writes the partial bytes for real, then throws. */
function injectedWrite(fd: number, bufs: Buffer[], pos: number, total: number): void {
  const fault = faults?.write?.(fdPaths.get(fd) ?? '', total);
  if (!fault) return;
  const partial = Math.min(fault.partialBytes ?? 0, total);
  if (partial > 0) fs.writeSync(fd, Buffer.concat(bufs).subarray(0, partial), 0, partial, pos);
  throw fault.error;
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
  if (faults) injectedWrite(fd, bufs, pos, total);
  let written = await pWritevOnce(fd, bufs, pos);
  while (written < total) {
    const n = await pWritevOnce(fd, unwritten(bufs, written), pos + written);
    if (n === 0) throw new Error('short write');
    written += n;
  }
}

/** Synchronous writev of all buffers at pos, retrying short writes (small appends only). */
export function writevAllSync(fd: number, bufs: Buffer[], pos: number, total: number): void {
  if (faults) injectedWrite(fd, bufs, pos, total);
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
