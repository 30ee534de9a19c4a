/**
 * Calling generated code the way a C caller does and checking that it leaves the caller's
 * registers alone. The calling conventions split the registers in two: a function may
 * change the caller-saved ones freely, but it must return the callee-saved ones (and the
 * stack and frame pointers) exactly as it found them, or its caller breaks later, far from
 * the cause.
 *
 *   x86-64 (System V)  callee-saved: rbx, rbp, r12, r13, r14, r15
 *   AArch64 (AAPCS64)  callee-saved: x19 … x28, x29 (the frame pointer)
 *
 * A wrapper placed in front of the code saves those registers, loads each with a known
 * value, calls the code, stores (value after XOR value before) of each into a scratch page,
 * restores them and returns the code's own result.
 */
import type { Arch } from '#native/arch.ts';
import { wordsToBytes } from '#native/arch.ts';
import { MAP, MAP_FAILED, PROT, copyOut, mmap, munmap } from '#native/libc.ts';

export const CALLEE_SAVED: Record<Arch, readonly string[]> = {
  x64: ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'],
  arm64: ['x19', 'x20', 'x21', 'x22', 'x23', 'x24', 'x25', 'x26', 'x27', 'x28', 'x29'],
};

/** The value each callee-saved register holds when the code is entered. */
export function sentinel(index: number): bigint {
  return (BigInt(0xa500 + index) << 48n) | 0x5a5an;
}

function bytes64(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

/** x86-64 wrapper: f(x, scratch); the code under test follows it directly. */
function wrapperX64(): Uint8Array {
  const code: number[] = [];
  code.push(0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57); // push rbx, rbp, r12 … r15
  code.push(0x56); //                                                       push rsi (7 pushes: rsp is 16-aligned again)
  const load = [[0x48, 0xbb], [0x48, 0xbd], [0x49, 0xbc], [0x49, 0xbd], [0x49, 0xbe], [0x49, 0xbf]]; // movabs reg, imm64
  load.forEach((opcode, i) => code.push(...opcode, ...bytes64(sentinel(i))));
  const callAt = code.length;
  code.push(0xe8, 0, 0, 0, 0); //                                           call <the code> (rel32 patched below)
  code.push(0x5e); //                                                       pop rsi
  const xorInto = [[0x48, 0x31, 0xd9], [0x48, 0x31, 0xe9], [0x4c, 0x31, 0xe1], [0x4c, 0x31, 0xe9], [0x4c, 0x31, 0xf1], [0x4c, 0x31, 0xf9]]; // xor rcx, reg
  xorInto.forEach((xor, i) => {
    code.push(0x48, 0xb9, ...bytes64(sentinel(i))); //                      movabs rcx, sentinel
    code.push(...xor); //                                                   xor rcx, reg
    code.push(0x48, 0x89, 0x4e, 8 * i); //                                  mov [rsi + 8*i], rcx
  });
  code.push(0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b); // pop r15 … r12, rbp, rbx
  code.push(0xc3); //                                                       ret
  const rel = code.length - (callAt + 5);
  code.splice(callAt + 1, 4, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff);
  return Uint8Array.from(code);
}

/** AArch64 wrapper: f(x, scratch) in x0, x1; the code under test follows it directly. */
function wrapperArm64(): Uint8Array {
  const words: number[] = [];
  words.push(0xa9800000 | (0x72 << 15) | (30 << 10) | (31 << 5) | 29); //  stp x29, x30, [sp, #-112]!
  words.push(0x910003fd); //                                               mov x29, sp
  for (let pair = 0; pair < 5; pair++) {
    const a = 19 + 2 * pair;
    words.push(0xa9000000 | ((2 + 2 * pair) << 15) | ((a + 1) << 10) | (31 << 5) | a); // stp xa, xa+1, [sp, #16 + 16*pair]
  }
  words.push(0xf9000000 | (12 << 10) | (31 << 5) | 1); //                 str x1, [sp, #96]
  const load = (register: number, value: bigint) => {
    words.push(0xd2800000 | (3 << 21) | (Number(value >> 48n) << 5) | register); // movz xr, #hi, lsl #48
    words.push(0xf2800000 | (Number(value & 0xffffn) << 5) | register); //          movk xr, #lo
  };
  for (let i = 0; i < 10; i++) load(19 + i, sentinel(i));
  const callAt = words.length;
  words.push(0x94000000); //                                               bl <the code> (imm26 patched below)
  words.push(0xf9400000 | (12 << 10) | (31 << 5) | 1); //                 ldr x1, [sp, #96]
  for (let i = 0; i < 10; i++) {
    load(3, sentinel(i));
    words.push(0xca000000 | ((19 + i) << 16) | (3 << 5) | 3); //          eor x3, x3, x(19+i)
    words.push(0xf9000000 | (i << 10) | (1 << 5) | 3); //                 str x3, [x1, #8*i]
  }
  words.push(0x910003e3); //                                               mov x3, sp
  words.push(0xca000000 | (29 << 16) | (3 << 5) | 3); //                  eor x3, x3, x29 (0 when x29 still equals sp)
  words.push(0xf9000000 | (10 << 10) | (1 << 5) | 3); //                  str x3, [x1, #80]
  for (let pair = 0; pair < 5; pair++) {
    const a = 19 + 2 * pair;
    words.push(0xa9400000 | ((2 + 2 * pair) << 15) | ((a + 1) << 10) | (31 << 5) | a); // ldp xa, xa+1, [sp, #16 + 16*pair]
  }
  words.push(0xa8c00000 | (14 << 15) | (30 << 10) | (31 << 5) | 29); //  ldp x29, x30, [sp], #112
  words.push(0xd65f03c0); //                                               ret
  words[callAt] = 0x94000000 | ((words.length - callAt) & 0x3ffffff);
  return wordsToBytes(words);
}

/** The wrapper for `arch`; the code under test goes right after it. */
export function preservingWrapper(arch: Arch): Uint8Array {
  return arch === 'x64' ? wrapperX64() : wrapperArm64();
}

/** A changed callee-saved register: its name, and the value the caller finds in it afterwards. */
export interface Clobbered {
  register: string;
  before: bigint;
  after: bigint;
}

/** Scratch memory for the wrapper's report, outside any code region. */
export function withScratch<T>(use: (address: bigint, read: () => Clobbered[]) => T, arch: Arch): T {
  const address = mmap(null, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  if (address === MAP_FAILED) throw new Error('the checks could not map a scratch page');
  try {
    const read = () => {
      const view = new DataView(copyOut(address, 8 * CALLEE_SAVED[arch].length).buffer);
      return CALLEE_SAVED[arch].flatMap((register, i) => {
        const change = view.getBigUint64(8 * i, true);
        // x29 is compared with sp, not with a loaded value.
        const before = register === 'x29' ? 0n : sentinel(i);
        return change === 0n ? [] : [{ register, before, after: before ^ change }];
      });
    };
    return use(address, read);
  } finally {
    munmap(address, 4096);
  }
}
