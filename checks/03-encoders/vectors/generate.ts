/**
 * Generates the test vectors of chapter 03 with the real GNU assemblers.
 *
 *   node --import tsx checks/03-encoders/vectors/generate.ts
 *
 * Needs `as`, `nm`, `objcopy` (x86-64 binutils) and `aarch64-linux-gnu-as`,
 * `aarch64-linux-gnu-nm`, `aarch64-linux-gnu-objcopy`. Only this script needs them: the
 * checks read the JSON files it writes (x64.json, arm64.json), which are committed.
 *
 * Each vector is { group, call, args, asm, bytes }:
 *   group  the check that replays it (one check per instruction family)
 *   call   the encoder's exported name; `args` its arguments, in JSON: a number is a
 *          register, condition, immediate or offset; a string "123n" is a bigint; an
 *          object { base, index, scale, disp } is an x86-64 memory operand (built with mem())
 *   asm    the instruction as a person reads it
 *   bytes  what GNU as produced, in hex, in memory order
 * The expected bytes never come from the workbook's own encoders: only from GNU as.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arg, Vector } from '../vectors.ts';

interface Spec {
  group: string;
  call: string;
  args: Arg[];
  /** What a person reads. */
  asm: string;
  /** What GNU as is given, if it differs from `asm` (jumps: a target relative to a label). */
  source?: (label: string) => string;
}

const here = dirname(fileURLToPath(import.meta.url));

// A small seeded generator (mulberry32), so the random vectors are the same on every run.
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(0x03e11c0d);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

// ---------------------------------------------------------------------------------------
// x86-64

const R = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ALL = [...Array(16).keys()];

function x64Specs(): Spec[] {
  const out: Spec[] = [];
  const add = (group: string, call: string, args: Arg[], asm: string, source?: (label: string) => string): void => {
    out.push({ group, call, args, asm, ...(source ? { source } : {}) });
  };
  const memText = (base: number, index: number | null, scale: number, disp: number): string => {
    let t = R[base]!;
    if (index !== null) t += `+${R[index]}*${scale}`;
    if (disp !== 0) t += disp < 0 ? `-${-disp}` : `+${disp}`;
    return `qword ptr [${t}]`;
  };
  const m = (base: number, index: number | null, scale: number, disp: number): Arg => ({ base, index, scale, disp });

  // mov r, r: every pair, so every combination of REX.R and REX.B appears.
  for (const d of ALL) for (const s of ALL) add('x64 mov register', 'movq_rr', [d, s], `mov ${R[d]}, ${R[s]}`);
  // movzx r64, r8: byte registers 4..7 are spl..dil because REX.W is present anyway.
  for (const d of [0, 1, 4, 7, 8, 15]) for (const s of ALL) add('x64 mov register', 'movzxb_rr', [d, s], `movzx ${R[d]}, ${R8[s]}`);

  // mov r, imm: imm32 sign-extended when it fits, movabs otherwise.
  const imm64s = ['0n', '1n', '-1n', '127n', '128n', '2147483647n', '2147483648n', '-2147483648n', '-2147483649n',
    '4294967295n', '4294967296n', '9223372036854775807n', '-9223372036854775808n', '18446744071562067968n',
    '18446744073709551615n', '1311768467463790320n', '-81985529216486896n'];
  for (const d of [0, 1, 4, 5, 8, 12, 15]) {
    for (const v of imm64s) add('x64 mov immediate', 'movq_ri', [d, v], `mov ${R[d]}, ${v.slice(0, -1)}`);
  }

  // The ALU family with registers and immediates.
  const alu = ['add', 'or', 'and', 'sub', 'xor', 'cmp'];
  for (const op of alu) {
    for (const [d, s] of [[0, 0], [0, 1], [1, 0], [8, 0], [0, 8], [15, 12], [4, 5], [13, 4], [7, 14]] as const) {
      add('x64 alu register', `${op}q_rr`, [d, s], `${op} ${R[d]}, ${R[s]}`);
    }
    for (const d of [0, 1, 4, 8, 12, 15]) {
      for (const imm of [0, 1, -1, 127, 128, -128, -129, 1000, -1000, 0x7fffffff, -0x80000000]) {
        add('x64 alu immediate', `${op}q_ri`, [d, imm], `${op} ${R[d]}, ${imm}`);
      }
    }
  }
  for (const [a, bb] of [[0, 0], [0, 1], [1, 0], [8, 9], [15, 4], [5, 13]] as const) add('x64 alu register', 'testq_rr', [a, bb], `test ${R[a]}, ${R[bb]}`);
  for (const a of [0, 1, 7, 8, 15]) for (const imm of [0, 1, -1, 127, 128, 0x7fffffff, -0x80000000]) {
    add('x64 alu immediate', 'testq_ri', [a, imm], `test ${R[a]}, ${imm}`);
  }

  // Multiply, divide, negate.
  for (const [d, s] of [[0, 1], [1, 0], [8, 15], [15, 8], [4, 5], [3, 3]] as const) add('x64 multiply and divide', 'imulq_rr', [d, s], `imul ${R[d]}, ${R[s]}`);
  for (const r of ALL) {
    add('x64 multiply and divide', 'idivq_r', [r], `idiv ${R[r]}`);
    add('x64 multiply and divide', 'negq_r', [r], `neg ${R[r]}`);
    add('x64 multiply and divide', 'notq_r', [r], `not ${R[r]}`);
  }
  add('x64 multiply and divide', 'cqo', [], 'cqo');
  // The 32-bit unsigned divide (no REX.W; REX.B alone for r8d..r15d).
  const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
  for (const r of ALL) add('x64 multiply and divide', 'divl_r', [r], `div ${R32[r]}`);

  // Shifts: by 1 uses the short D1 form.
  for (const op of ['shl', 'shr', 'sar']) {
    for (const r of [0, 1, 7, 8, 13, 15]) {
      for (const count of [0, 1, 2, 31, 32, 63]) add('x64 shifts', `${op}q_ri`, [r, count], `${op} ${R[r]}, ${count}`);
      add('x64 shifts', `${op}q_rcl`, [r], `${op} ${R[r]}, cl`);
    }
  }

  // Memory operands: every base with the displacement boundaries, then with an index.
  for (const base of ALL) {
    for (const disp of [0, 8, -8, 127, 128, -128, -129, 0x7fffffff, -0x80000000]) {
      add('x64 memory operands', 'movq_rm', [0, m(base, null, 1, disp)], `mov rax, ${memText(base, null, 1, disp)}`);
    }
    add('x64 memory operands', 'movq_rm', [9, m(base, null, 1, 16)], `mov r9, ${memText(base, null, 1, 16)}`);
    add('x64 memory operands', 'movq_mr', [m(base, null, 1, 0), 10], `mov ${memText(base, null, 1, 0)}, r10`);
    add('x64 memory operands', 'leaq_rm', [15, m(base, null, 1, -24)], `lea r15, ${memText(base, null, 1, -24)}`);
  }
  for (const base of [0, 4, 5, 12, 13, 15]) {
    for (const index of [0, 1, 5, 8, 12, 13, 15]) {
      for (const scale of [1, 2, 4, 8]) {
        for (const disp of [0, 127, 128]) {
          add('x64 scaled index', 'leaq_rm', [2, m(base, index, scale, disp)], `lea rdx, ${memText(base, index, scale, disp)}`);
        }
      }
    }
  }
  for (const [base, disp, imm] of [[0, 0, 5], [4, 8, -1], [5, 0, 0x7fffffff], [12, -128, -0x80000000], [13, 128, 1000]] as const) {
    add('x64 memory operands', 'movq_mi', [m(base, null, 1, disp), imm], `mov ${memText(base, null, 1, disp)}, ${imm}`);
  }

  // Loads and stores with an index: r12 and r13 are ordinary indexes (REX.X), only rsp is not.
  for (const [base, index, disp] of [[0, 1, 0], [4, 12, 8], [5, 13, 0], [13, 5, -8], [12, 15, 128], [15, 8, -129], [3, 12, 0]] as const) {
    add('x64 scaled index', 'movq_rm', [9, m(base, index, 8, disp)], `mov r9, ${memText(base, index, 8, disp)}`);
    add('x64 scaled index', 'movq_mr', [m(base, index, 8, disp), 6], `mov ${memText(base, index, 8, disp)}, rsi`);
  }

  // For the optimizing tier: the one-operand imul (rdx:rax = rax * src), cmov, movabs of a
  // fixed length, and lea of an address relative to the next instruction.
  for (const r of ALL) add('x64 wide multiply and cmov', 'imulq_r', [r], `imul ${R[r]}`);
  for (const cc of ALL) {
    for (const [d, s] of [[0, 1], [8, 15], [4, 13], [7, 12]] as const) {
      add('x64 wide multiply and cmov', 'cmovcc_rr', [cc, d, s], `cmov${CC[cc]} ${R[d]}, ${R[s]}`);
    }
  }
  for (const d of [0, 4, 5, 8, 11, 12, 13, 15]) {
    for (const v of ['0n', '1n', '-1n', '2147483647n', '18446744073709551615n', '1311768467463790320n']) {
      add('x64 rip-relative lea and movabs', 'movabsq_ri', [d, v], `movabs ${R[d]}, ${v.slice(0, -1)}`);
    }
    for (const rel of [0, 1, -1, -7, 127, 128, -129, 0x12345, -0x54321]) {
      add('x64 rip-relative lea and movabs', 'leaq_rip', [d, rel], `lea ${R[d]}, [rip${rel < 0 ? '-' : '+'}${Math.abs(rel)}]`,
        (l) => `lea ${R[d]}, [rip + ${l}+7${rel < 0 ? '-' : '+'}${Math.abs(rel)}]`);
    }
  }

  // Stack and calls.
  for (const r of ALL) {
    add('x64 push pop call', 'push_r', [r], `push ${R[r]}`);
    add('x64 push pop call', 'pop_r', [r], `pop ${R[r]}`);
    add('x64 push pop call', 'call_r', [r], `call ${R[r]}`);
    add('x64 push pop call', 'jmp_r', [r], `jmp ${R[r]}`);
  }
  add('x64 push pop call', 'ret', [], 'ret');
  add('x64 push pop call', 'ud2', [], 'ud2');
  add('x64 push pop call', 'int3', [], 'int3');
  add('x64 push pop call', 'nop', [], 'nop');

  // setcc: every condition with every register (spl..dil need the empty REX).
  for (const cc of ALL) for (const r of ALL) add('x64 setcc', 'setcc_r', [cc, r], `set${CC[cc]} ${R8[r]}`);

  // Jumps: GNU as is given a target relative to a label at the instruction, so that it
  // computes the displacement itself, counted from the end of the instruction.
  const target = (length: number, rel: number) => (label: string) => `${label}+${length}${rel < 0 ? '-' : '+'}${Math.abs(rel)}`;
  for (const rel of [0, 1, -1, 127, -128, 128, -129, 1000, -1000, 0x12345, -0x54321]) {
    add('x64 jumps', 'jmp_rel32', [rel], `jmp rel32 ${rel}`, (l) => `{disp32} jmp ${target(5, rel)(l)}`);
    add('x64 jumps', 'call_rel32', [rel], `call rel32 ${rel}`, (l) => `call ${target(5, rel)(l)}`);
    for (const cc of [0, 4, 5, 12, 15]) add('x64 jumps', 'jcc_rel32', [cc, rel], `j${CC[cc]} rel32 ${rel}`, (l) => `{disp32} j${CC[cc]} ${target(6, rel)(l)}`);
  }
  for (const rel of [0, 1, -1, 2, -2, 127, -128, 64, -100]) {
    add('x64 jumps', 'jmp_rel8', [rel], `jmp rel8 ${rel}`, (l) => `jmp ${target(2, rel)(l)}`);
    for (const cc of ALL) add('x64 jumps', 'jcc_rel8', [cc, rel], `j${CC[cc]} rel8 ${rel}`, (l) => `j${CC[cc]} ${target(2, rel)(l)}`);
  }

  // Random operand combinations.
  const randomDisp = (): number => pick([0, int(-128, 127), int(-100000, 100000), int(-0x80000000, 0x7fffffff)]);
  const randomImm = (): number => pick([int(-128, 127), int(-0x80000000, 0x7fffffff), int(-1000, 1000)]);
  for (let i = 0; i < 360; i++) {
    const kind = int(0, 8);
    const d = int(0, 15);
    const s = int(0, 15);
    if (kind === 0) add('x64 random', 'movq_rr', [d, s], `mov ${R[d]}, ${R[s]}`);
    else if (kind === 1) {
      const op = pick(alu);
      add('x64 random', `${op}q_rr`, [d, s], `${op} ${R[d]}, ${R[s]}`);
    } else if (kind === 2) {
      const op = pick(alu);
      const imm = randomImm();
      add('x64 random', `${op}q_ri`, [d, imm], `${op} ${R[d]}, ${imm}`);
    } else if (kind === 3) {
      const disp = randomDisp();
      add('x64 random', 'movq_rm', [d, m(s, null, 1, disp)], `mov ${R[d]}, ${memText(s, null, 1, disp)}`);
    } else if (kind === 4) {
      const disp = randomDisp();
      add('x64 random', 'movq_mr', [m(d, null, 1, disp), s], `mov ${memText(d, null, 1, disp)}, ${R[s]}`);
    } else if (kind === 5) {
      const index = pick(ALL.filter((r) => r !== 4));
      const scale = pick([1, 2, 4, 8]);
      const disp = randomDisp();
      const call = pick(['leaq_rm', 'movq_rm']);
      add('x64 random', call, [d, m(s, index, scale, disp)], `${call === 'leaq_rm' ? 'lea' : 'mov'} ${R[d]}, ${memText(s, index, scale, disp)}`);
    } else if (kind === 6) {
      const v = BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 32)) << BigInt(int(0, 32)) ^ BigInt(int(-5, 5)));
      add('x64 random', 'movq_ri', [d, `${v}n`], `mov ${R[d]}, ${v}`);
    } else if (kind === 7) {
      const op = pick(['shl', 'shr', 'sar']);
      const count = int(0, 63);
      add('x64 random', `${op}q_ri`, [d, count], `${op} ${R[d]}, ${count}`);
    } else {
      add('x64 random', 'imulq_rr', [d, s], `imul ${R[d]}, ${R[s]}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// AArch64

const XZR = 31;
const SP = 32;
const X = (r: number): string => (r === SP ? 'sp' : r === XZR ? 'xzr' : `x${r}`);
const COND = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];
const SHIFT = ['lsl', 'lsr', 'asr', 'ror'];
const GPR = [...Array(31).keys()];
const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** A value that is a valid bitmask immediate: a rotated run of ones in a repeated element. */
function randomBitmask(): bigint {
  const size = pick([2, 4, 8, 16, 32, 64]);
  const ones = int(1, size - 1);
  const rot = int(0, size - 1);
  const mask = (1n << BigInt(size)) - 1n;
  const run = (1n << BigInt(ones)) - 1n;
  const element = ((run >> BigInt(rot)) | (run << BigInt(size - rot))) & mask;
  let v = 0n;
  for (let at = 0; at < 64; at += size) v |= element << BigInt(at);
  return v;
}

function arm64Specs(): Spec[] {
  const out: Spec[] = [];
  const add = (group: string, call: string, args: Arg[], asm: string, source?: (label: string) => string): void => {
    out.push({ group, call, args, asm, ...(source ? { source } : {}) });
  };

  // Add/subtract immediate: imm12 boundaries, lsl #12, sp as Rd and Rn, xzr as flag-setting Rd.
  for (const [name, call] of [['add', 'add_imm'], ['sub', 'sub_imm'], ['adds', 'adds_imm'], ['subs', 'subs_imm']] as const) {
    const setsFlags = name.endsWith('s');
    // Rd of adds/subs is xzr where add/sub has sp: flag-setting forms cannot write sp.
    for (const [d, n] of [[0, 1], [setsFlags ? 5 : SP, SP], [0, SP], [setsFlags ? 6 : SP, 0], [30, 29], [setsFlags ? XZR : 17, 3]] as const) {
      for (const imm of [0, 1, 4095, 4096, 8192, 0x123000, 0xfff000]) {
        add('arm64 add/sub immediate', call, [d, n, imm], `${name} ${X(d)}, ${X(n)}, #${imm}`);
      }
    }
  }
  for (const n of [0, 7, SP]) for (const imm of [0, 17, 4095, 4096]) {
    add('arm64 add/sub immediate', 'cmp_imm', [n, imm], `cmp ${X(n)}, #${imm}`);
    add('arm64 add/sub immediate', 'cmn_imm', [n, imm], `cmn ${X(n)}, #${imm}`);
  }
  // mov: orr with xzr, or add #0 when sp is involved.
  for (const [d, m] of [[0, 1], [1, 0], [0, SP], [SP, 0], [SP, 29], [29, SP], [0, XZR], [30, 30]] as const) {
    add('arm64 mov and move wide', 'mov_reg', [d, m], `mov ${X(d)}, ${X(m)}`);
  }
  for (const [name, call] of [['movz', 'movz'], ['movk', 'movk'], ['movn', 'movn']] as const) {
    for (const d of [0, 9, 30, XZR]) for (const imm of [0, 1, 0x1234, 0xffff]) for (const shift of [0, 16, 32, 48]) {
      add('arm64 mov and move wide', call, [d, imm, shift], `${name} ${X(d)}, #${imm}, lsl #${shift}`);
    }
  }

  // Add/subtract shifted register.
  for (const [name, call] of [['add', 'add_reg'], ['sub', 'sub_reg'], ['adds', 'adds_reg'], ['subs', 'subs_reg']] as const) {
    for (const [d, n, m] of [[0, 1, 2], [30, 29, 28], [XZR, 1, 2], [0, XZR, 2], [0, 1, XZR], [5, 5, 5]] as const) {
      for (const [shift, amount] of [[0, 0], [0, 3], [0, 63], [1, 1], [1, 63], [2, 7], [2, 32]] as const) {
        add('arm64 add/sub register', call, [d, n, m, shift, amount], `${name} ${X(d)}, ${X(n)}, ${X(m)}, ${SHIFT[shift]} #${amount}`);
      }
    }
  }
  for (const [n, m] of [[0, 1], [XZR, 3], [12, XZR]] as const) {
    add('arm64 add/sub register', 'cmp_reg', [n, m], `cmp ${X(n)}, ${X(m)}`);
    add('arm64 add/sub register', 'cmn_reg', [n, m], `cmn ${X(n)}, ${X(m)}`);
  }
  add('arm64 add/sub register', 'cmp_reg', [4, 5, 2, 9], `cmp x4, x5, asr #9`);
  for (const [d, m] of [[0, 1], [30, 0], [XZR, 7], [7, XZR]] as const) add('arm64 add/sub register', 'neg', [d, m], `neg ${X(d)}, ${X(m)}`);

  // Logical shifted register.
  for (const [name, call] of [['and', 'and_reg'], ['orr', 'orr_reg'], ['eor', 'eor_reg'], ['ands', 'ands_reg'], ['bic', 'bic_reg']] as const) {
    for (const [d, n, m] of [[0, 1, 2], [30, 29, 28], [XZR, 1, 2], [0, XZR, 2], [0, 1, XZR]] as const) {
      for (const [shift, amount] of [[0, 0], [0, 63], [1, 4], [2, 60], [3, 17]] as const) {
        add('arm64 logical register', call, [d, n, m, shift, amount], `${name} ${X(d)}, ${X(n)}, ${X(m)}, ${SHIFT[shift]} #${amount}`);
      }
    }
  }
  for (const [d, m] of [[0, 1], [XZR, 2], [3, XZR]] as const) add('arm64 logical register', 'mvn', [d, m], `mvn ${X(d)}, ${X(m)}`);
  for (const [n, m] of [[0, 1], [XZR, 2], [3, XZR]] as const) add('arm64 logical register', 'tst_reg', [n, m], `tst ${X(n)}, ${X(m)}`);

  // Logical immediate: bitmask immediates of every element size.
  const masks = [0xffn, 0xff00n, 1n, 0x8000000000000000n, 0x7fffffffffffffffn, 0xfffffffffffffffen, 0x5555555555555555n,
    0xaaaaaaaaaaaaaaaan, 0x0f0f0f0f0f0f0f0fn, 0x00ff00ff00ff00ffn, 0x0000ffff0000ffffn, 0x00000000ffffffffn, 0xffffffff00000000n,
    0x3ffff000n, 0x8000000180000001n, 0x7n, 0xfffn, 0x6666666666666666n, 0xc3c3c3c3c3c3c3c3n, 0xfffffffffff0000fn];
  for (let i = 0; i < 12; i++) masks.push(randomBitmask());
  for (const [name, call] of [['and', 'and_imm'], ['orr', 'orr_imm'], ['eor', 'eor_imm'], ['ands', 'ands_imm']] as const) {
    for (const v of masks) add('arm64 logical immediate', call, [0, 1, `${v}n`], `${name} x0, x1, #${hex(v)}`);
    if (name !== 'ands') add('arm64 logical immediate', call, [SP, 2, '255n'], `${name} sp, x2, #0xff`);
    add('arm64 logical immediate', call, [30, XZR, '4080n'], `${name} x30, xzr, #0xff0`);
  }
  for (const v of [0xffn, 1n, 0xaaaaaaaaaaaaaaaan]) add('arm64 logical immediate', 'tst_imm', [9, `${v}n`], `tst x9, #${hex(v)}`);

  // Multiply, divide, variable shifts.
  for (const [d, n, m, a] of [[0, 1, 2, 3], [30, 29, 28, 27], [XZR, 1, 2, 3], [0, XZR, XZR, XZR], [4, 4, 4, 4]] as const) {
    add('arm64 multiply and divide', 'madd', [d, n, m, a], `madd ${X(d)}, ${X(n)}, ${X(m)}, ${X(a)}`);
    add('arm64 multiply and divide', 'msub', [d, n, m, a], `msub ${X(d)}, ${X(n)}, ${X(m)}, ${X(a)}`);
    for (const op of ['mul', 'smulh', 'sdiv', 'udiv', 'lslv', 'lsrv', 'asrv']) {
      add('arm64 multiply and divide', op, [d, n, m], `${op} ${X(d)}, ${X(n)}, ${X(m)}`);
    }
  }

  // Bitfield moves and shifts by an immediate.
  for (const [d, n] of [[0, 1], [30, 29], [XZR, 2], [3, XZR]] as const) {
    for (const [r, s] of [[0, 63], [3, 7], [63, 0], [32, 31]] as const) {
      add('arm64 shifts', 'ubfm', [d, n, r, s], `ubfm ${X(d)}, ${X(n)}, #${r}, #${s}`);
      add('arm64 shifts', 'sbfm', [d, n, r, s], `sbfm ${X(d)}, ${X(n)}, #${r}, #${s}`);
    }
    for (const shift of [0, 1, 3, 31, 32, 63]) {
      add('arm64 shifts', 'lsl_imm', [d, n, shift], `lsl ${X(d)}, ${X(n)}, #${shift}`);
      add('arm64 shifts', 'lsr_imm', [d, n, shift], `lsr ${X(d)}, ${X(n)}, #${shift}`);
      add('arm64 shifts', 'asr_imm', [d, n, shift], `asr ${X(d)}, ${X(n)}, #${shift}`);
    }
  }

  // Loads and stores: sp as base, xzr as data, the scaled/unscaled/indexed boundaries.
  for (const [t, n] of [[0, 1], [0, SP], [XZR, SP], [30, 29], [XZR, 3]] as const) {
    for (const offset of [0, 8, 16, 4088, 32760]) {
      add('arm64 load/store', 'ldr_imm', [t, n, offset], `ldr ${X(t)}, [${X(n)}, #${offset}]`);
      add('arm64 load/store', 'str_imm', [t, n, offset], `str ${X(t)}, [${X(n)}, #${offset}]`);
    }
    for (const offset of [-256, -8, -1, 0, 1, 7, 255]) {
      add('arm64 load/store', 'ldur', [t, n, offset], `ldur ${X(t)}, [${X(n)}, #${offset}]`);
      add('arm64 load/store', 'stur', [t, n, offset], `stur ${X(t)}, [${X(n)}, #${offset}]`);
      add('arm64 load/store', 'ldr_pre', [t, n, offset], `ldr ${X(t)}, [${X(n)}, #${offset}]!`);
      add('arm64 load/store', 'ldr_post', [t, n, offset], `ldr ${X(t)}, [${X(n)}], #${offset}`);
      add('arm64 load/store', 'str_pre', [t, n, offset], `str ${X(t)}, [${X(n)}, #${offset}]!`);
      add('arm64 load/store', 'str_post', [t, n, offset], `str ${X(t)}, [${X(n)}], #${offset}`);
    }
  }
  for (const [t, t2, n] of [[29, 30, SP], [0, 1, 2], [XZR, XZR, SP], [19, 20, SP], [3, XZR, 4]] as const) {
    for (const offset of [-512, -16, 0, 8, 16, 504]) {
      for (const [suffix, call] of [['', 'stp'], ['_pre', 'stp_pre'], ['_post', 'stp_post'], ['', 'ldp'], ['_pre', 'ldp_pre'], ['_post', 'ldp_post']] as const) {
        if (call.startsWith('ldp') && t === t2) continue; // unpredictable: GNU as refuses
        const name = call.slice(0, 3);
        const address = suffix === '_pre' ? `[${X(n)}, #${offset}]!` : suffix === '_post' ? `[${X(n)}], #${offset}` : `[${X(n)}, #${offset}]`;
        add('arm64 load/store pair', call, [t, t2, n, offset], `${name} ${X(t)}, ${X(t2)}, ${address}`);
      }
    }
  }

  // Register offset (base + index, scaled by 8 or not) and adr.
  for (const [t, n, m] of [[0, 1, 2], [30, SP, 29], [XZR, 3, 4], [5, SP, XZR], [17, 29, 30]] as const) {
    for (const shift of [3, 0]) {
      const address = `[${X(n)}, ${X(m)}${shift ? `, lsl #${shift}` : ''}]`;
      add('arm64 register offset and adr', 'ldr_reg', [t, n, m, shift], `ldr ${X(t)}, ${address}`);
      add('arm64 register offset and adr', 'str_reg', [t, n, m, shift], `str ${X(t)}, ${address}`);
    }
  }
  for (const d of [0, 9, 30]) {
    for (const rel of [0, 1, -1, 2, 3, 4, -4, 0x12345, 0xfffff, -0x100000]) {
      add('arm64 register offset and adr', 'adr', [d, rel], `adr ${X(d)}, ${rel}`, (l) => `adr ${X(d)}, ${l}${rel < 0 ? '-' : '+'}${Math.abs(rel)}`);
    }
  }

  // Branches: offsets from the branch itself.
  const at = (rel: number) => (label: string) => `${label}${rel < 0 ? '-' : '+'}${Math.abs(rel)}`;
  for (const rel of [0, 4, -4, 1024, -1024, 0x7fffffc, -0x8000000, 0x123454]) {
    add('arm64 branches', 'b', [rel], `b ${rel}`, (l) => `b ${at(rel)(l)}`);
    add('arm64 branches', 'bl', [rel], `bl ${rel}`, (l) => `bl ${at(rel)(l)}`);
  }
  for (const rel of [0, 4, -4, 0xffffc, -0x100000, 4096]) {
    for (const cc of [...Array(16).keys()]) add('arm64 branches', 'b_cond', [cc, rel], `b.${COND[cc]} ${rel}`, (l) => `b.${COND[cc]} ${at(rel)(l)}`);
    for (const t of [0, 30, XZR]) {
      add('arm64 branches', 'cbz', [t, rel], `cbz ${X(t)}, ${rel}`, (l) => `cbz ${X(t)}, ${at(rel)(l)}`);
      add('arm64 branches', 'cbnz', [t, rel], `cbnz ${X(t)}, ${rel}`, (l) => `cbnz ${X(t)}, ${at(rel)(l)}`);
    }
  }
  for (const rel of [0, 4, -4, 0x7ffc, -0x8000]) for (const bit of [0, 5, 31, 32, 63]) for (const t of [0, 17, XZR]) {
    add('arm64 branches', 'tbz', [t, bit, rel], `tbz ${X(t)}, #${bit}, ${rel}`, (l) => `tbz ${X(t)}, #${bit}, ${at(rel)(l)}`);
    add('arm64 branches', 'tbnz', [t, bit, rel], `tbnz ${X(t)}, #${bit}, ${rel}`, (l) => `tbnz ${X(t)}, #${bit}, ${at(rel)(l)}`);
  }
  for (const r of [0, 1, 16, 29, 30, XZR]) {
    add('arm64 branches', 'br', [r], `br ${X(r)}`);
    add('arm64 branches', 'blr', [r], `blr ${X(r)}`);
    add('arm64 branches', 'ret', [r], `ret ${X(r)}`);
  }
  add('arm64 branches', 'ret', [], 'ret');

  // Conditional select, cset, and the odds and ends.
  for (const cc of [...Array(16).keys()]) {
    for (const [name, call] of [['csel', 'csel'], ['csinc', 'csinc'], ['csinv', 'csinv'], ['csneg', 'csneg']] as const) {
      add('arm64 conditional select', call, [0, 1, 2, cc], `${name} x0, x1, x2, ${COND[cc]}`);
    }
    if (cc < 14) for (const d of [0, 30, XZR]) add('arm64 conditional select', 'cset', [d, cc], `cset ${X(d)}, ${COND[cc]}`);
  }
  add('arm64 conditional select', 'csel', [XZR, XZR, 30, 12], 'csel xzr, xzr, x30, gt');
  for (const imm of [0, 1, 0xffff]) {
    add('arm64 traps and nop', 'udf', [imm], `udf #${imm}`);
    add('arm64 traps and nop', 'brk', [imm], `brk #${imm}`);
  }
  add('arm64 traps and nop', 'nop', [], 'nop');

  // Random operand combinations.
  const anyReg = (): number => pick([...GPR, XZR]);
  for (let i = 0; i < 360; i++) {
    const kind = int(0, 9);
    const d = int(0, 30);
    const n = int(0, 30);
    const m = anyReg();
    if (kind === 0) {
      const call = pick(['add_imm', 'sub_imm']);
      const imm = random() < 0.5 ? int(0, 4095) : int(1, 4095) * 4096;
      const dd = random() < 0.2 ? SP : d;
      const nn = random() < 0.2 ? SP : n;
      add('arm64 random', call, [dd, nn, imm], `${call.slice(0, 3)} ${X(dd)}, ${X(nn)}, #${imm}`);
    } else if (kind === 1) {
      const op = pick(['add', 'sub', 'adds', 'subs']);
      const shift = int(0, 2);
      const amount = int(0, 63);
      add('arm64 random', `${op}_reg`, [d, n, m, shift, amount], `${op} ${X(d)}, ${X(n)}, ${X(m)}, ${SHIFT[shift]} #${amount}`);
    } else if (kind === 2) {
      const op = pick(['and', 'orr', 'eor', 'ands', 'bic']);
      const shift = int(0, 3);
      const amount = int(0, 63);
      add('arm64 random', `${op}_reg`, [d, n, m, shift, amount], `${op} ${X(d)}, ${X(n)}, ${X(m)}, ${SHIFT[shift]} #${amount}`);
    } else if (kind === 3) {
      const op = pick(['and', 'orr', 'eor', 'ands']);
      const v = randomBitmask();
      add('arm64 random', `${op}_imm`, [d, n, `${v}n`], `${op} ${X(d)}, ${X(n)}, #${hex(v)}`);
    } else if (kind === 4) {
      const op = pick(['movz', 'movk', 'movn']);
      const imm = int(0, 0xffff);
      const shift = pick([0, 16, 32, 48]);
      add('arm64 random', op, [d, imm, shift], `${op} ${X(d)}, #${imm}, lsl #${shift}`);
    } else if (kind === 5) {
      const op = pick(['mul', 'smulh', 'sdiv', 'udiv', 'lslv', 'lsrv', 'asrv']);
      add('arm64 random', op, [d, n, m], `${op} ${X(d)}, ${X(n)}, ${X(m)}`);
    } else if (kind === 6) {
      const base = random() < 0.3 ? SP : n;
      const op = pick(['ldr', 'str']);
      const offset = int(0, 4095) * 8;
      add('arm64 random', `${op}_imm`, [d, base, offset], `${op} ${X(d)}, [${X(base)}, #${offset}]`);
    } else if (kind === 7) {
      const base = random() < 0.3 ? SP : n === d ? (n + 1) % 31 : n;
      const offset = int(-256, 255);
      const [call, text] = pick([
        ['ldur', `ldur ${X(d)}, [${X(base)}, #${offset}]`], ['stur', `stur ${X(d)}, [${X(base)}, #${offset}]`],
        ['ldr_pre', `ldr ${X(d)}, [${X(base)}, #${offset}]!`], ['str_post', `str ${X(d)}, [${X(base)}], #${offset}`],
      ] as const);
      add('arm64 random', call, [d, base, offset], text);
    } else if (kind === 8) {
      const t2 = d === 30 ? 0 : d + 1;
      const offset = int(-64, 63) * 8;
      const op = pick(['stp', 'ldp']);
      add('arm64 random', op, [d, t2, SP, offset], `${op} ${X(d)}, ${X(t2)}, [sp, #${offset}]`);
    } else {
      const cc = int(0, 15);
      const op = pick(['csel', 'csinc', 'csinv', 'csneg']);
      add('arm64 random', op, [d, n, m, cc], `${op} ${X(d)}, ${X(n)}, ${X(m)}, ${COND[cc]}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Running the assemblers.

interface Toolchain {
  as: string;
  asFlags: string[];
  nm: string;
  objcopy: string;
  prelude: string;
}

const TOOLS: Record<'x64' | 'arm64', Toolchain> = {
  x64: { as: 'as', asFlags: ['--64'], nm: 'nm', objcopy: 'objcopy', prelude: '.intel_syntax noprefix\n' },
  arm64: { as: 'aarch64-linux-gnu-as', asFlags: [], nm: 'aarch64-linux-gnu-nm', objcopy: 'aarch64-linux-gnu-objcopy', prelude: '' },
};

/** Assembles every spec in one file, each behind a label, and cuts the bytes apart at the labels. */
function assemble(arch: 'x64' | 'arm64', specs: Spec[]): Vector[] {
  const tools = TOOLS[arch];
  const dir = mkdtempSync(join(tmpdir(), 'ch03-vectors-'));
  try {
    const lines = specs.map((spec, i) => `vec${i}: ${spec.source ? spec.source(`vec${i}`) : spec.asm}`);
    lines.push(`vec${specs.length}:`);
    writeFileSync(join(dir, 'in.s'), `${tools.prelude}.text\n${lines.join('\n')}\n`);
    execFileSync(tools.as, [...tools.asFlags, '-o', join(dir, 'in.o'), join(dir, 'in.s')], { stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync(tools.objcopy, ['-O', 'binary', '-j', '.text', join(dir, 'in.o'), join(dir, 'in.bin')]);
    const relocs = execFileSync(tools.as === 'as' ? 'objdump' : 'aarch64-linux-gnu-objdump', ['-r', join(dir, 'in.o')], { encoding: 'utf8' });
    if (/R_(X86_64|AARCH64)_/.test(relocs)) throw new Error(`${arch}: the object file has relocations; some vector did not resolve:\n${relocs}`);
    const text = readFileSync(join(dir, 'in.bin'));
    const offsets = new Map<number, number>();
    for (const line of execFileSync(tools.nm, [join(dir, 'in.o')], { encoding: 'utf8' }).split('\n')) {
      const match = /^([0-9a-f]+) \w vec(\d+)$/.exec(line.trim());
      if (match) offsets.set(Number(match[2]), parseInt(match[1]!, 16));
    }
    return specs.map((spec, i) => {
      const start = offsets.get(i);
      const end = offsets.get(i + 1);
      if (start === undefined || end === undefined) throw new Error(`${arch}: no label for vector ${i} (${spec.asm})`);
      const bytes = Buffer.from(text.subarray(start, end)).toString('hex');
      if (bytes.length === 0) throw new Error(`${arch}: vector ${i} (${spec.asm}) assembled to nothing`);
      if (arch === 'arm64' && bytes.length !== 8) throw new Error(`${arch}: vector ${i} (${spec.asm}) is not one word: ${bytes}`);
      return { group: spec.group, call: spec.call, args: spec.args, asm: spec.asm, bytes };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The jumps' expected lengths, so that a relaxation by GNU as cannot slip through unnoticed. */
function checkJumpLengths(vectors: Vector[]): void {
  const lengths: Record<string, number> = { jmp_rel32: 5, call_rel32: 5, jcc_rel32: 6, jmp_rel8: 2, jcc_rel8: 2, leaq_rip: 7, movabsq_ri: 10 };
  for (const v of vectors) {
    const expected = lengths[v.call];
    if (expected !== undefined && v.bytes.length !== expected * 2) throw new Error(`${v.asm}: GNU as chose ${v.bytes} (${v.bytes.length / 2} bytes)`);
  }
}

function write(name: string, vectors: Vector[]): void {
  const groups = new Map<string, number>();
  for (const v of vectors) groups.set(v.group, (groups.get(v.group) ?? 0) + 1);
  const body = `[\n${vectors.map((v) => JSON.stringify(v)).join(',\n')}\n]\n`;
  writeFileSync(join(here, name), body);
  console.log(`${name}: ${vectors.length} vectors`);
  for (const [group, count] of groups) console.log(`  ${group.padEnd(32)} ${count}`);
}

const x64 = assemble('x64', x64Specs());
checkJumpLengths(x64);
write('x64.json', x64);
write('arm64.json', assemble('arm64', arm64Specs()));
