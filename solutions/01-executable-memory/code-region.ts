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
import { MAP, MAP_FAILED, PROT, copyIn, errno, errnoName, mmap, mprotect, munmap, pageSize, rawFunction, strerror } from '#native/libc.ts';
import { flushInstructionCache } from '#native/icache.ts';

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
  const page = pageSize();
  return Math.ceil(size / page) * page;
}

// A region that becomes unreachable without dispose() is unmapped by the garbage collector.
// The registry holds only what unmapping needs (address and size), never the region itself,
// which would keep the region reachable forever.
const unmapForgotten = new FinalizationRegistry<{ address: bigint; size: number }>(({ address, size }) => {
  munmap(address, size);
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
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`CodeRegion.allocate: size must be a positive integer, got ${size}`);
    }
    const rounded = roundToPages(size);
    const address = mmap(null, rounded, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    if (address === MAP_FAILED) {
      throw new SystemCallError('mmap', errno(), `while allocating ${rounded} bytes`);
    }
    const region = new CodeRegion(address, rounded);
    unmapForgotten.register(region, { address, size: rounded }, region);
    return region;
  }

  get state(): RegionState {
    return this.#state;
  }

  /**
   * Copies `bytes` to `offset` within the region. Only while writable (RegionStateError
   * otherwise); bytes that do not fit are a RangeError.
   */
  write(offset: number, bytes: Uint8Array): void {
    this.#require('writable', 'write to');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + bytes.length > this.size) {
      throw new RangeError(
        `CodeRegion.write: ${bytes.length} bytes at offset ${offset} do not fit in a region of ${this.size} bytes`,
      );
    }
    copyIn(this.address + BigInt(offset), bytes);
  }

  /**
   * Makes the region executable and no longer writable, and the instruction cache coherent
   * (on AArch64 that matters: see flushInstructionCache). Only while writable. A failed
   * mprotect is a SystemCallError and leaves the state as it was.
   */
  seal(): void {
    this.#require('writable', 'seal');
    this.#protect(PROT.READ | PROT.EXEC);
    flushInstructionCache(this.address, this.size);
    this.#state = 'executable';
  }

  /**
   * Makes the region writable again (and no longer executable), to patch code. Only while
   * executable. A failed mprotect is a SystemCallError and leaves the state as it was.
   */
  unseal(): void {
    this.#require('executable', 'unseal');
    this.#protect(PROT.READ | PROT.WRITE);
    this.#state = 'writable';
  }

  /**
   * A callable for the code at `offset`, taking `arity` int64 arguments. Only while
   * executable (RegionStateError otherwise); an offset outside the region is a RangeError.
   * The region must live as long as any function into it, and calling after dispose() or
   * while unsealed must throw instead of jumping into memory that is gone or not executable.
   */
  function(offset: number, arity: number): JitFunction {
    this.#require('executable', 'take a function from');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size) {
      throw new RangeError(`CodeRegion.function: offset ${offset} is outside the region of ${this.size} bytes`);
    }
    const call = rawFunction(this.address + BigInt(offset), arity);
    const region = this;
    return (...args: bigint[]): bigint => {
      region.#require('executable', 'call into');
      return call(...args);
    };
  }

  /**
   * Unmaps the whole region, in any state. Later calls through its functions throw, and so
   * does every other operation; a second dispose does nothing (it must not unmap again: by
   * then the address may belong to another region).
   */
  dispose(): void {
    if (this.#state === 'disposed') return;
    unmapForgotten.unregister(this);
    if (munmap(this.address, this.size) !== 0) {
      throw new SystemCallError('munmap', errno(), `at 0x${this.address.toString(16)}`);
    }
    this.#state = 'disposed';
  }

  #protect(prot: number): void {
    if (mprotect(this.address, this.size, prot) !== 0) {
      throw new SystemCallError('mprotect', errno(), `at 0x${this.address.toString(16)}`);
    }
  }

  #require(state: RegionState, action: string): void {
    if (this.#state !== state) {
      throw new RegionStateError(`cannot ${action} a ${this.#state} region (it must be ${state})`);
    }
  }
}
