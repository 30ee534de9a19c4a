/**
 * Chapter 11: data memory from the OS, the heap's semispaces and its context block.
 *
 * Chapter 01's `CodeRegion` maps memory for code; the heap needs memory that is only ever
 * read and written, never executed. A `DataMapping` is that: whole pages, mapped readable and
 * writable (no PROT_EXEC, ever), zeroed by the OS, and unmapped by `dispose`.
 *
 * TypeScript reads and writes it through typed-array views (koffi's `view`), not one call
 * per word. A view is only as good as the mapping under it: `dispose` detaches the buffer
 * (where the runtime can: every view of it then has length 0, and reads give undefined
 * instead of touching unmapped pages), then unmaps the pages; every later `buffer` is an error.
 */
import koffi from 'koffi';
import { MAP, MAP_FAILED, PROT, errno, mmap, munmap } from '#native/libc.ts';
import { SystemCallError, roundToPages } from '#ch01/code-region.ts';
import { todo } from '#native/todo.ts';

export { roundToPages };

// A collection walks a space from end to end and the program allocates through all of it, so
// the heap asks for 2 MiB pages (Linux's transparent huge pages): one page fault and one TLB
// entry where 4 KiB pages take 512. It is only advice, the same number on x86-64 and AArch64:
// a kernel without huge pages (or one that refuses) keeps small pages, and nothing changes.
const madvise = koffi.load('libc.so.6').func('int madvise(void *addr, size_t length, int advice)');
const MADV_HUGEPAGE = 14;

export class DataMapping {
  /** The first byte, page aligned. */
  readonly address: bigint;
  /** Bytes mapped, a whole number of pages. */
  readonly size: number;
  #buffer: ArrayBuffer | null;

  constructor(size: number) {
    // TODO: map `size` bytes of data, rounded up to whole pages (roundToPages, chapter 01):
    //   - a size that is not a positive whole number is a RangeError that says what it got
    //   - mmap(null, size, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0):
    //     readable and writable, never executable; the OS hands the pages over zeroed
    //   - MAP_FAILED is a SystemCallError('mmap', errno(), …) that says how many bytes
    //   - optionally, madvise(address, size, MADV_HUGEPAGE): advice, whose result does not matter
    //   - keep the address and the rounded size, and a view of the pages as an ArrayBuffer
    //     (koffi.view(address as unknown as number, size)) for `buffer`
    this.address = 0n;
    this.size = 0;
    this.#buffer = null;
    todo('DataMapping (the constructor)');
  }

  /** The mapped bytes as an ArrayBuffer, for typed-array views. Fails after `dispose`. */
  get buffer(): ArrayBuffer {
    if (this.#buffer === null) throw new Error('this data mapping was disposed: its memory is gone');
    return this.#buffer;
  }

  /** Detaches the buffer and unmaps the pages: views made from `buffer` must be dropped first. */
  dispose(): void {
    if (this.#buffer === null) return;
    detach(this.#buffer);
    this.#buffer = null;
    if (munmap(this.address, this.size) !== 0) throw new SystemCallError('munmap', errno(), `(${this.size} bytes at 0x${this.address.toString(16)})`);
  }
}

/** Detaches `buffer` (ArrayBuffer.prototype.transfer, where the runtime has it): its views become empty. */
function detach(buffer: ArrayBuffer): void {
  const transfer = (buffer as { transfer?: (length: number) => ArrayBuffer }).transfer;
  if (typeof transfer === 'function') transfer.call(buffer, 0);
}
