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
import { CodeRegion, type JitFunction } from '#ch01/code-region.ts';

/**
 * `return x + 4`, as bytes, written by hand. On x86-64: copy rdi to rax, add 4, return.
 * On AArch64 one instruction does the addition (x0 is both argument and result), then ret.
 */
export function addFourCode(arch: Arch): Uint8Array {
  if (arch === 'x64') {
    return Uint8Array.from([
      0x48, 0x89, 0xf8, //       mov rax, rdi
      0x48, 0x83, 0xc0, 0x04, // add rax, 4
      0xc3, //                   ret
    ]);
  }
  return littleEndianWords([
    0x91001000, // add x0, x0, #4
    0xd65f03c0, // ret
  ]);
}

/** AArch64 instructions are 32-bit words, stored least significant byte first. */
export function littleEndianWords(words: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0, true));
  return bytes;
}

/** The bytes of a little-endian integer of `size` bytes (two's complement for negatives). */
function littleEndian(value: bigint, size: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) bytes.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return bytes;
}

const fits = (value: bigint, bits: number) => value >= -(1n << BigInt(bits - 1)) && value < 1n << BigInt(bits - 1);

/** `return x + k` on x86-64, with the shortest immediate that holds k. */
function adderX64(k: bigint): Uint8Array {
  const code = [0x48, 0x89, 0xf8]; //                        mov rax, rdi
  if (fits(k, 8)) {
    code.push(0x48, 0x83, 0xc0, ...littleEndian(k, 1)); //    add rax, imm8  (sign-extended)
  } else if (fits(k, 32)) {
    code.push(0x48, 0x05, ...littleEndian(k, 4)); //          add rax, imm32 (sign-extended)
  } else {
    code.push(0x48, 0xb9, ...littleEndian(k, 8)); //          movabs rcx, imm64
    code.push(0x48, 0x01, 0xc8); //                           add rax, rcx
  }
  code.push(0xc3); //                                         ret
  return Uint8Array.from(code);
}

/** `return x + k` on AArch64: a 12-bit immediate if k fits, else k built in x9 16 bits at a time. */
function adderArm64(k: bigint): Uint8Array {
  const words: number[] = [];
  if (k >= 0n && k < 4096n) {
    words.push(0x91000000 | (Number(k) << 10)); //            add x0, x0, #k
  } else if (k < 0n && k > -4096n) {
    words.push(0xd1000000 | (Number(-k) << 10)); //           sub x0, x0, #-k
  } else {
    const bits = BigInt.asUintN(64, k);
    let first = true;
    for (let hw = 0; hw < 4; hw++) {
      const chunk = Number((bits >> BigInt(16 * hw)) & 0xffffn);
      if (chunk === 0) continue;
      const opcode = first ? 0xd2800000 : 0xf2800000; //     movz / movk x9, #chunk, lsl #(16*hw)
      words.push(opcode | (hw << 21) | (chunk << 5) | 9);
      first = false;
    }
    words.push(0x8b090000); //                                add x0, x0, x9
  }
  words.push(0xd65f03c0); //                                  ret
  return littleEndianWords(words);
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
  if (!fits(k, 64)) throw new RangeError(`adderCode: k must be a signed 64-bit integer, got ${k}`);
  return arch === 'x64' ? adderX64(k) : adderArm64(k);
}

/**
 * Compiles `x + k` for this machine (hostArch()) into a CodeRegion and returns it as a
 * function: the addition happens in the machine code, not in TypeScript.
 */
export function makeAdder(k: bigint): JitFunction {
  const code = adderCode(k, hostArch());
  const region = CodeRegion.allocate(code.length);
  region.write(0, code);
  region.seal();
  return region.function(0, 1);
}
