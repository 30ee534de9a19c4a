/**
 * Chapter 01: executable memory.                       Book: book/01-executable-memory.md
 *
 * A `CodeRegion` is a run of whole pages that holds machine code. It is always in exactly
 * one of three states, and the pages' protection follows the state:
 *
 *   writable ──seal()──▶ executable ──dispose()──▶ disposed
 *      ▲                     │
 *      └─────unseal()────────┘
 *
 *   writable    PROT_READ | PROT_WRITE   bytes may be written, nothing may run
 *   executable  PROT_READ | PROT_EXEC    code may run, nothing may be written
 *   disposed    unmapped                 nothing at all
 *
 * No page is ever writable and executable at once (W^X).
 *
 * The raw system calls are given in #native/libc.ts (mmap, mprotect, munmap, copyIn,
 * errno, errnoName, strerror, pageSize, rawFunction) and the AArch64 cache flush in
 * #native/icache.ts. Your job is the safe layer on top. Check your work with:
 *
 *   npm run check chapter-01
 */
// Everything you need is imported already.
import { MAP, MAP_FAILED, PROT, copyIn, errno, errnoName, mmap, mprotect, munmap, pageSize, rawFunction, strerror } from '#native/libc.ts';
import { flushInstructionCache } from '#native/icache.ts';
import { todo } from '#native/todo.ts';

export type RegionState = 'writable' | 'executable' | 'disposed';

/** A failed system call, with the errno it left: `mmap failed: ENOMEM (Cannot allocate memory)`. */
export class SystemCallError extends Error {
  override readonly name = 'SystemCallError';
  readonly call: string;
  readonly errno: number;
  /** The symbolic errno name: 'ENOMEM', 'EINVAL', … */
  readonly code: string;

  constructor(call: string, errnoValue: number, detail: string) {
    const code = errnoName(errnoValue);
    super(`${call} failed: ${code} (${strerror(errnoValue)}) ${detail}`);
    this.call = call;
    this.errno = errnoValue;
    this.code = code;
  }
}

/** An operation the region's current state does not allow (writing while executable, …). */
export class RegionStateError extends Error {
  override readonly name = 'RegionStateError';
}

/** A function in generated code: takes and returns 64-bit integers. */
export type JitFunction = (...args: bigint[]) => bigint;

/** Rounds `size` up to a whole number of pages: mmap and mprotect work on pages only. */
export function roundToPages(size: number): number {
  return todo('roundToPages');
}

// TODO (last): a region that becomes unreachable without dispose() should be unmapped by the
// garbage collector. Fill in this callback, and register each region in allocate(). Hold only
// what unmapping needs ({ address, size }), never the region itself: that would keep it alive.
const unmapForgotten = new FinalizationRegistry<{ address: bigint; size: number }>((held) => {
  void held;
});

export class CodeRegion {
  readonly address: bigint;
  readonly size: number;
  #state: RegionState = 'writable';

  private constructor(address: bigint, size: number) {
    this.address = address;
    this.size = size;
  }

  /**
   * Maps fresh, zeroed, writable pages for at least `size` bytes of code.
   * A size that is not a positive integer is a RangeError; a failed mmap is a SystemCallError.
   */
  static allocate(size: number): CodeRegion {
    void unmapForgotten;
    return todo('CodeRegion.allocate');
  }

  get state(): RegionState {
    return this.#state;
  }

  /**
   * Copies `bytes` to `offset` within the region. Only while writable (RegionStateError
   * otherwise); bytes that do not fit are a RangeError.
   */
  write(offset: number, bytes: Uint8Array): void {
    todo('CodeRegion.write');
  }

  /**
   * Makes the region executable and no longer writable, and the instruction cache coherent
   * (on AArch64 that matters: see flushInstructionCache). Only while writable. A failed
   * mprotect is a SystemCallError and leaves the state as it was.
   */
  seal(): void {
    todo('CodeRegion.seal');
  }

  /**
   * Makes the region writable again (and no longer executable), to patch code. Only while
   * executable. A failed mprotect is a SystemCallError and leaves the state as it was.
   */
  unseal(): void {
    todo('CodeRegion.unseal');
  }

  /**
   * A callable for the code at `offset`, taking `arity` int64 arguments. Only while
   * executable (RegionStateError otherwise); an offset outside the region is a RangeError.
   * The region must live as long as any function into it, and calling after dispose() or
   * while unsealed must throw instead of jumping into memory that is gone or not executable.
   */
  function(offset: number, arity: number): JitFunction {
    return todo('CodeRegion.function');
  }

  /**
   * Unmaps the whole region, in any state. Later calls through its functions throw, and so
   * does every other operation; a second dispose does nothing (it must not unmap again: by
   * then the address may belong to another region).
   */
  dispose(): void {
    todo('CodeRegion.dispose');
  }
}
