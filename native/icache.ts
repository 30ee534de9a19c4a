/**
 * Instruction-cache maintenance. Given code: chapter 01's book page explains it.
 *
 * On AArch64 the instruction cache is not kept coherent with data stores. Bytes written
 * through the data side (our memcpy) can sit in the data cache while the instruction side
 * still holds, or later fetches, the old contents of that memory. Before running freshly
 * written code a program must:
 *   1. clean the data cache to the point of unification   dc cvau  (per cache line)
 *   2. wait for that to finish                             dsb ish
 *   3. invalidate the instruction cache for the same lines ic ivau  (per cache line)
 *   4. wait again, and discard already-fetched instructions dsb ish; isb
 * Line sizes come from the CTR_EL0 register (DminLine, bits 19:16; IminLine, bits 3:0;
 * each log2 of the size in 4-byte words). C compilers provide this as __clear_cache. The
 * arm64 libgcc_s.so.1 exports a __clear_cache whose symbol is only 4 bytes long, which
 * looks like a do-nothing stub; in Debian's libgcc 12 that one instruction is a branch to
 * the real loop, but what a library's symbol does varies between builds and C libraries
 * (musl has no libgcc_s at all), and a flush that silently does nothing is only found on
 * real hardware. So the workbook carries the routine itself, below, as bytes.
 *
 * x86-64 keeps its instruction cache coherent with stores, so there it has nothing to do.
 * qemu-user forgives a missing flush (it watches writes to translated code); real chips
 * do not, and the failure is rare, timing-dependent and miserable to find.
 *
 * The routine's own page needs no flush: the Linux kernel cleans a freshly written page
 * the first time it is mapped executable.
 */
import { hostArch, wordsToBytes } from './arch.ts';
import { reportCall, unreported } from './libc-calls.ts';
import { MAP, MAP_FAILED, PROT, copyIn, mmap, mprotect, pageSize, rawFunction, type RawFunction } from './libc.ts';

// void flush(void *start /* x0 */, size_t length /* x1 */)
const AARCH64_FLUSH = [
  0xd53b0023, //       mrs  x3, ctr_el0
  0xd2800085, //       mov  x5, #4
  0xd3504c64, //       ubfx x4, x3, #16, #4     DminLine
  0x9ac420a4, //       lsl  x4, x5, x4          data line size in bytes
  0x92400c66, //       and  x6, x3, #0xf        IminLine
  0x9ac620a6, //       lsl  x6, x5, x6          instruction line size in bytes
  0x8b010001, //       add  x1, x0, x1          end
  0xd1000487, //       sub  x7, x4, #1
  0x8a270002, //       bic  x2, x0, x7          start rounded down to a data line
  0xd50b7b22, // 1:    dc   cvau, x2
  0x8b040042, //       add  x2, x2, x4
  0xeb01005f, //       cmp  x2, x1
  0x54ffffa3, //       b.lo 1b
  0xd5033b9f, //       dsb  ish
  0xd10004c7, //       sub  x7, x6, #1
  0x8a270002, //       bic  x2, x0, x7          start rounded down to an instruction line
  0xd50b7522, // 2:    ic   ivau, x2
  0x8b060042, //       add  x2, x2, x6
  0xeb01005f, //       cmp  x2, x1
  0x54ffffa3, //       b.lo 2b
  0xd5033b9f, //       dsb  ish
  0xd5033fdf, //       isb
  0xd65f03c0, //       ret
];

let flushRoutine: RawFunction | null = null;

/** Maps the routine's page; unreported, because the routine is the workbook's and not the code under check. */
function loadFlushRoutine(): RawFunction {
  return unreported(() => {
    const bytes = wordsToBytes(AARCH64_FLUSH);
    const size = pageSize();
    const address = mmap(null, size, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    if (address === MAP_FAILED) throw new Error('flushInstructionCache: could not map a page for the flush routine');
    copyIn(address, bytes);
    if (mprotect(address, size, PROT.READ | PROT.EXEC) !== 0) throw new Error('flushInstructionCache: mprotect failed');
    return rawFunction(address, 2);
  });
}

/** True where freshly written code needs `flushInstructionCache` before it runs. */
export function needsInstructionCacheFlush(): boolean {
  return hostArch() === 'arm64';
}

/**
 * Makes the instruction cache coherent with the bytes written at [address, address+length).
 * Call it after writing code and before running it. A no-op on x86-64.
 */
export function flushInstructionCache(address: bigint, length: number): void {
  if (needsInstructionCacheFlush() && length > 0) {
    flushRoutine ??= loadFlushRoutine();
    flushRoutine(address, BigInt(length));
  }
  reportCall({ call: 'flush', address, length });
}
