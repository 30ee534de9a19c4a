/**
 * Raw bindings to the C library, through koffi. This file is given: chapter 01 builds a
 * safe `CodeRegion` on top of it, and nothing above chapter 01 should need it directly.
 *
 * Everything here is as unsafe as C. Addresses are `bigint` (a 64-bit machine value);
 * lengths and offsets are `number`. A call that fails returns what C returns (-1, or
 * MAP_FAILED) and leaves the reason in `errno()`: turning that into an error is the
 * caller's job.
 *
 * The calls that touch memory (mmap, mprotect, munmap, copyIn) report themselves through
 * native/libc-calls.ts once C has returned; the checks watch those reports to see how your
 * code used memory. Nothing here records or keeps anything.
 */
import koffi from 'koffi';
import { reportCall } from './libc-calls.ts';

// Machine code called through koffi runs on koffi's own stack, 2 MiB by default. Deep
// recursion in generated code (10000 frames of a function with many locals) needs more,
// and the setting only takes effect before the first library is loaded.
koffi.config({ ...koffi.config(), sync_stack_size: 16 * 1024 * 1024 });

const libc = koffi.load('libc.so.6');

/** Page protection bits for mmap and mprotect (sys/mman.h). */
export const PROT = { NONE: 0, READ: 1, WRITE: 2, EXEC: 4 } as const;

/** Mapping flags for mmap (Linux values, identical on x86-64 and AArch64). */
export const MAP = { SHARED: 0x01, PRIVATE: 0x02, FIXED: 0x10, ANONYMOUS: 0x20 } as const;

/** What mmap returns on failure: (void *) -1. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

const mmap_ = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
const mprotect_ = libc.func('int mprotect(void *addr, size_t length, int prot)');
const munmap_ = libc.func('int munmap(void *addr, size_t length)');
const memcpyIn = libc.func('void *memcpy(void *dest, const uint8_t *src, size_t n)');
const memcpyOut = libc.func('void *memcpy(_Out_ uint8_t *dest, void *src, size_t n)');
const sysconf_ = libc.func('long sysconf(int name)');
const strerror_ = libc.func('const char *strerror(int errnum)');
const SC_PAGESIZE = 30;

/** mmap(2): maps `length` bytes; returns the address, or MAP_FAILED (then see `errno()`). */
export function mmap(address: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number): bigint {
  const result = BigInt(mmap_(address, length, prot, flags, fd, offset) ?? MAP_FAILED);
  if (result !== MAP_FAILED) reportCall({ call: 'mmap', address: result, length, prot });
  return result;
}

/** mprotect(2): changes the protection of whole pages; returns 0, or -1 (then see `errno()`). */
export function mprotect(address: bigint, length: number, prot: number): number {
  const result = mprotect_(address, length, prot) as number;
  reportCall({ call: 'mprotect', address, length, prot, result });
  return result;
}

/** munmap(2): removes a mapping; returns 0, or -1 (then see `errno()`). */
export function munmap(address: bigint, length: number): number {
  const result = munmap_(address, length) as number;
  reportCall({ call: 'munmap', address, length, result });
  return result;
}

/** Copies bytes into memory at `address` (memcpy). The pages must be writable, or the process dies. */
export function copyIn(address: bigint, bytes: Uint8Array): void {
  memcpyIn(address, bytes, bytes.length);
  reportCall({ call: 'write', address, length: bytes.length });
}

/** Copies `length` bytes out of memory at `address` (memcpy). The pages must be readable. */
export function copyOut(address: bigint, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  if (length > 0) memcpyOut(bytes, address, length);
  return bytes;
}

/** The errno left by the last failed call. */
export function errno(): number {
  return koffi.errno();
}

const errnoNames = new Map<number, string>(Object.entries(koffi.os.errno).map(([name, code]) => [code as number, name]));

/** The symbolic name of an errno value: 12 → 'ENOMEM'. */
export function errnoName(code: number): string {
  return errnoNames.get(code) ?? `errno ${code}`;
}

/** The C library's description of an errno value: 12 → 'Cannot allocate memory'. */
export function strerror(code: number): string {
  return strerror_(code) as string;
}

/** The size of a page: the unit mmap and mprotect work in (4096 on most Linux systems). */
export function pageSize(): number {
  return Number(sysconf_(SC_PAGESIZE));
}

/** A machine-code function that takes and returns 64-bit integers (int64_t in C). */
export type RawFunction = (...args: bigint[]) => bigint;

const prototypes = new Map<number, ReturnType<typeof koffi.proto>>();

function prototypeFor(arity: number): ReturnType<typeof koffi.proto> {
  let proto = prototypes.get(arity);
  if (!proto) {
    const params = Array.from({ length: arity }, () => 'int64_t').join(', ');
    proto = koffi.proto(`int64_t workbook_fn${arity}(${params})`);
    prototypes.set(arity, proto);
  }
  return proto;
}

/**
 * Calls the machine code at `address` as a C function of `arity` int64_t arguments that
 * returns int64_t (System V on x86-64, AAPCS64 on AArch64). Nothing checks that code is
 * there: calling into freed or non-executable memory kills the process.
 */
export function rawFunction(address: bigint, arity: number): RawFunction {
  if (!Number.isInteger(arity) || arity < 0 || arity > 8) {
    throw new RangeError(`rawFunction: arity must be 0…8 (the arguments passed in registers), got ${arity}`);
  }
  const proto = prototypeFor(arity);
  return (...args: bigint[]): bigint => {
    if (args.length !== arity) throw new TypeError(`expected ${arity} argument(s), got ${args.length}`);
    return BigInt(koffi.call(address, proto, ...args) as number | bigint);
  };
}
