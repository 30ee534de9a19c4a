/**
 * Chapter 02: the first JIT, by hand.                  Book: book/02-add-four.md
 *
 * Both functions here return machine code for a C function `int64_t f(int64_t x)`.
 * The calling conventions decide where x arrives and where the result must be left:
 *
 *            argument x   result   return
 *   x86-64   rdi          rax      ret       (System V AMD64 ABI)
 *   AArch64  x0           x0       ret       (AAPCS64)
 *
 * This chapter uses your CodeRegion from chapter 01. Skipped it? Run the checks with
 * `npm run check chapter-02 -- --use-ref 1` to lean on the reference CodeRegion.
 */
import type { Arch } from '#native/arch.ts';
import { hostArch } from '#native/arch.ts';
import { todo } from '#native/todo.ts';
import { CodeRegion, type JitFunction } from '#ch01/code-region.ts';

/**
 * `return x + 4`, as bytes, written by hand. On x86-64: copy rdi to rax, add 4, return.
 * On AArch64 one instruction does the addition (x0 is both argument and result), then ret.
 */
export function addFourCode(arch: Arch): Uint8Array {
  return todo(`addFourCode(${arch})`);
}

/** AArch64 instructions are 32-bit words, stored least significant byte first. */
export function littleEndianWords(words: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0, true));
  return bytes;
}

/**
 * `return x + k` for any signed 64-bit k (the addition wraps), as bytes for `arch`.
 * Use the shortest form that holds k:
 *   x86-64   imm8 (48 83 c0 ib), imm32 (48 05 id), else movabs into a scratch register
 *   AArch64  add/sub with a 12-bit immediate, else movz/movk into x9 and add x0, x0, x9
 * A scratch register must be one the caller does not keep (not rbx, rbp, r12-r15 on
 * x86-64; not x19-x29 on AArch64). A k outside the signed 64-bit range is a RangeError.
 */
export function adderCode(k: bigint, arch: Arch): Uint8Array {
  return todo(`adderCode(${k}, ${arch})`);
}

/**
 * Compiles `x + k` for this machine (hostArch()) into a CodeRegion and returns it as a
 * function: the addition happens in the machine code, not in TypeScript.
 */
export function makeAdder(k: bigint): JitFunction {
  void hostArch;
  void CodeRegion;
  return todo('makeAdder');
}
