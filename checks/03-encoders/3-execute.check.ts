/**
 * Chapter 03: the encoders' output RUNS. Each check builds short functions with the
 * learner's encoders for the architecture of the worker (t.arch), calls them on random
 * operands through the chapter 01 CodeRegion, and compares with BigInt arithmetic. Each
 * value a function returned is reported (check.ts reportOutcome): when work is graded, the
 * runner holds it to what the reference's code returned for the same operands.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, type CheckContext } from '#harness/check.ts';
import { wordsToBytes } from '#harness/exec.ts';

const x64 = await learnerCode(import('#ch03/x64.ts'));
const a64 = await learnerCode(import('#ch03/arm64.ts'));
const buffer = await learnerCode(import('#ch03/code-buffer.ts'));
const ch01 = await learnerCode(import('#ch01/code-region.ts'));

type Fn = (...args: bigint[]) => bigint;

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** x86-64 instructions (arrays of bytes) laid end to end. */
function bytesOf(parts: readonly (readonly number[])[]): Uint8Array {
  const code = new buffer.CodeBuffer();
  for (const part of parts) code.emit(part);
  return code.bytes();
}

/** Runs `use` with a callable for `code`, and frees the region afterwards. */
function withCode<T>(code: Uint8Array, arity: number, use: (fn: Fn, address: bigint) => T): T {
  const region = ch01.CodeRegion.allocate(code.length);
  try {
    region.write(0, code);
    region.seal();
    return use(region.function(0, arity), region.address);
  } finally {
    region.dispose();
  }
}

/** A random int64, often one of the edge cases. */
function randomI64(t: CheckContext): bigint {
  const r = t.random();
  if (r < 0.15) return [0n, 1n, -1n, MIN, MAX, 2n, -2n, 0x7fffffffn, 0x80000000n, -0x80000000n][Math.floor(t.random() * 10)]!;
  if (r < 0.35) return BigInt(Math.floor(t.random() * 2000) - 1000);
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 16n) | BigInt(Math.floor(t.random() * 0x10000));
  return i64(v);
}

/** Reports what the code returned under `what` (operands included), then compares it with `expected`. */
function same(actual: bigint, expected: bigint, what: string): void {
  reportOutcome(what, { output: [String(actual)] });
  if (actual !== expected) {
    assert.unreachable(`${what}: expected ${expected} (0x${u64(expected).toString(16)}), got ${actual} (0x${u64(actual).toString(16)})`);
  }
}

const TRIALS = 12;

// ---------------------------------------------------------------------------------------

check(
  'executes add, sub, and, or, xor (registers and immediates)',
  (t) => {
    const ops: [string, (a: bigint, b: bigint) => bigint][] = [
      ['add', (a, b) => a + b], ['sub', (a, b) => a - b], ['and', (a, b) => a & b], ['or', (a, b) => a | b], ['xor', (a, b) => a ^ b],
    ];
    for (const [name, op] of ops) {
      const regCode = t.arch === 'x64'
        ? bytesOf([x64.movq_rr(x64.Reg.rax, x64.Reg.rdi), x64[`${name as 'add'}q_rr`](x64.Reg.rax, x64.Reg.rsi), x64.ret()])
        : wordsToBytes([a64[`${(name === 'or' ? 'orr' : name === 'xor' ? 'eor' : name) as 'add'}_reg`](a64.Reg.x0, a64.Reg.x0, a64.Reg.x1), a64.ret()]);
      withCode(regCode, 2, (fn) => {
        for (let i = 0; i < TRIALS; i++) {
          const a = randomI64(t);
          const b = randomI64(t);
          same(fn(a, b), i64(op(a, b)), `${name} with registers, a = ${a}, b = ${b}`);
        }
      });
    }
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      if (t.arch === 'x64') {
        const imm = [5, -5, 127, 128, -129, 0x7fffffff, -0x80000000, Math.floor(t.random() * 2 ** 32) - 2 ** 31][i % 8]!;
        for (const [name, op] of ops) {
          const code = bytesOf([x64.movq_rr(x64.Reg.rax, x64.Reg.rdi), x64[`${name as 'add'}q_ri`](x64.Reg.rax, imm), x64.ret()]);
          withCode(code, 1, (fn) => same(fn(a), i64(op(a, BigInt(imm))), `${name} rax, ${imm} with rax = ${a}`));
        }
        const other = bytesOf([x64.movq_rr(x64.Reg.r11, x64.Reg.rdi), x64.subq_ri(x64.Reg.r11, imm), x64.movq_rr(x64.Reg.rax, x64.Reg.r11), x64.ret()]);
        withCode(other, 1, (fn) => same(fn(a), i64(a - BigInt(imm)), `sub r11, ${imm} with r11 = ${a}`));
      } else {
        const imm = [0, 1, 4095, 4096, 0xfff000, Math.floor(t.random() * 4096), Math.floor(t.random() * 4096) * 4096][i % 7]!;
        const add = wordsToBytes([a64.add_imm(a64.Reg.x0, a64.Reg.x0, imm), a64.ret()]);
        withCode(add, 1, (fn) => same(fn(a), i64(a + BigInt(imm)), `add x0, x0, #${imm} with x0 = ${a}`));
        const sub = wordsToBytes([a64.sub_imm(a64.Reg.x0, a64.Reg.x0, imm), a64.ret()]);
        withCode(sub, 1, (fn) => same(fn(a), i64(a - BigInt(imm)), `sub x0, x0, #${imm} with x0 = ${a}`));
        const mask = [0xffn, 0xff00ff00ff00ff00n, 0x5555555555555555n, 0xfffffffffffffff0n, 0x7fffffffffffffffn][i % 5]!;
        for (const [name, op] of [['and', (x: bigint, y: bigint) => x & y], ['orr', (x: bigint, y: bigint) => x | y], ['eor', (x: bigint, y: bigint) => x ^ y]] as const) {
          const code = wordsToBytes([a64[`${name}_imm`](a64.Reg.x0, a64.Reg.x0, mask), a64.ret()]);
          withCode(code, 1, (fn) => same(fn(a), i64(op(a, mask)), `${name} x0, x0, #0x${mask.toString(16)} with x0 = ${a}`));
        }
      }
    }
  },
  {
    points: 2,
    hints: [
      'These run your encodings. If the encoding checks pass but this fails, look at how the function reads its arguments and returns.',
      'x86-64 SysV: arguments in rdi, rsi, rdx, rcx; result in rax. AArch64: arguments in x0..x7, result in x0.',
      'The disassembly of the failing code is in the details when it crashes.',
    ],
  },
);

check(
  'executes multiply, negate and not',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const b = randomI64(t);
      const c = randomI64(t);
      if (t.arch === 'x64') {
        const { Reg } = x64;
        withCode(bytesOf([x64.movq_rr(Reg.r9, Reg.rdi), x64.imulq_rr(Reg.r9, Reg.rsi), x64.movq_rr(Reg.rax, Reg.r9), x64.ret()]), 2,
          (fn) => same(fn(a, b), i64(a * b), `imul r9, rsi with r9 = ${a}, rsi = ${b}`));
        withCode(bytesOf([x64.movq_rr(Reg.rax, Reg.rdi), x64.negq_r(Reg.rax), x64.ret()]), 1, (fn) => same(fn(a), i64(-a), `neg rax with rax = ${a}`));
        withCode(bytesOf([x64.movq_rr(Reg.r14, Reg.rdi), x64.notq_r(Reg.r14), x64.movq_rr(Reg.rax, Reg.r14), x64.ret()]), 1,
          (fn) => same(fn(a), i64(~a), `not r14 with r14 = ${a}`));
      } else {
        const { Reg } = a64;
        withCode(wordsToBytes([a64.mul(Reg.x0, Reg.x0, Reg.x1), a64.ret()]), 2, (fn) => same(fn(a, b), i64(a * b), `mul with ${a}, ${b}`));
        withCode(wordsToBytes([a64.smulh(Reg.x0, Reg.x0, Reg.x1), a64.ret()]), 2, (fn) => same(fn(a, b), (a * b) >> 64n, `smulh with ${a}, ${b}`));
        withCode(wordsToBytes([a64.madd(Reg.x0, Reg.x0, Reg.x1, Reg.x2), a64.ret()]), 3, (fn) => same(fn(a, b, c), i64(c + a * b), `madd with ${a}, ${b}, ${c}`));
        withCode(wordsToBytes([a64.msub(Reg.x0, Reg.x0, Reg.x1, Reg.x2), a64.ret()]), 3, (fn) => same(fn(a, b, c), i64(c - a * b), `msub with ${a}, ${b}, ${c}`));
        withCode(wordsToBytes([a64.neg(Reg.x0, Reg.x0), a64.ret()]), 1, (fn) => same(fn(a), i64(-a), `neg with ${a}`));
        withCode(wordsToBytes([a64.mvn(Reg.x0, Reg.x0), a64.ret()]), 1, (fn) => same(fn(a), i64(~a), `mvn with ${a}`));
      }
    }
  },
  { points: 2, hints: ['imul r, r keeps the low 64 bits of the product; its destination is ModRM.reg.', 'On AArch64, mul is madd with Ra = xzr; msub computes Ra - Rn*Rm.', 'Compare your bytes for the failing instruction with the encoding checks of the same family.'] },
);

check(
  'executes signed division and remainder',
  (t) => {
    for (let i = 0; i < TRIALS * 2; i++) {
      const a = randomI64(t);
      let b = randomI64(t);
      if (b === 0n || (a === MIN && b === -1n)) b = 7n;
      const quotient = a / b; // BigInt division truncates toward zero, as idiv and sdiv do
      const remainder = a % b;
      if (t.arch === 'x64') {
        const { Reg } = x64;
        const divide = [x64.movq_rr(Reg.rax, Reg.rdi), x64.movq_rr(Reg.r10, Reg.rsi), x64.cqo(), x64.idivq_r(Reg.r10)];
        withCode(bytesOf([...divide, x64.ret()]), 2, (fn) => same(fn(a, b), quotient, `cqo; idiv r10: ${a} / ${b}`));
        withCode(bytesOf([...divide, x64.movq_rr(Reg.rax, Reg.rdx), x64.ret()]), 2, (fn) => same(fn(a, b), remainder, `cqo; idiv r10: ${a} % ${b} (in rdx)`));
      } else {
        const { Reg } = a64;
        withCode(wordsToBytes([a64.sdiv(Reg.x0, Reg.x0, Reg.x1), a64.ret()]), 2, (fn) => same(fn(a, b), quotient, `sdiv: ${a} / ${b}`));
        withCode(wordsToBytes([a64.sdiv(Reg.x2, Reg.x0, Reg.x1), a64.msub(Reg.x0, Reg.x2, Reg.x1, Reg.x0), a64.ret()]), 2,
          (fn) => same(fn(a, b), remainder, `sdiv; msub: ${a} % ${b}`));
        withCode(wordsToBytes([a64.udiv(Reg.x0, Reg.x0, Reg.x1), a64.ret()]), 2, (fn) => same(fn(a, b), i64(u64(a) / u64(b)), `udiv: ${u64(a)} / ${u64(b)}`));
      }
    }
  },
  { points: 2, hints: ['x86-64 divides the 128-bit rdx:rax by the operand: cqo must come first to sign-extend rax into rdx. The quotient lands in rax, the remainder in rdx.', 'AArch64 has no remainder instruction: remainder = a - (a / b) * b, which is msub.', 'idiv is REX.W F7 /7.'] },
);

check(
  'executes the high half of a 64x64 multiply (imul r into rdx:rax; smulh) and cmov',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const b = i % 4 === 0 ? a : randomI64(t);
      const high = (a * b) >> 64n;
      if (t.arch === 'x64') {
        const { Reg } = x64;
        // mov rax, rdi; imul rsi  (rdx:rax = rax * rsi); mov rax, rdx; ret   and the same with r9 as the operand.
        withCode(bytesOf([x64.movq_rr(Reg.rax, Reg.rdi), x64.imulq_r(Reg.rsi), x64.movq_rr(Reg.rax, Reg.rdx), x64.ret()]), 2,
          (fn) => same(fn(a, b), high, `mov rax, rdi; imul rsi; mov rax, rdx: the high half of ${a} * ${b}`));
        withCode(bytesOf([x64.movq_rr(Reg.r9, Reg.rsi), x64.movq_rr(Reg.rax, Reg.rdi), x64.imulq_r(Reg.r9), x64.ret()]), 2,
          (fn) => same(fn(a, b), i64(a * b), `mov rax, rdi; imul r9: the low half (rax) of ${a} * ${b}`));
        // cmovcc for every condition: rax = 22; cmp rdi, rsi; mov r10, 11; cmovcc rax, r10
        for (let cc = 0; cc < 16; cc++) {
          const dst = [Reg.rax, Reg.r8, Reg.rdx][cc % 3]!;
          const code = bytesOf([x64.movq_ri(dst, 22n), x64.movq_ri(Reg.r10, 11n), x64.cmpq_rr(Reg.rdi, Reg.rsi), x64.cmovcc_rr(cc as never, dst, Reg.r10),
            x64.movq_rr(Reg.rax, dst), x64.ret()]);
          const expected = conditionHolds('x64', cc, a, b) ? 11n : 22n;
          withCode(code, 2, (fn) => same(fn(a, b), expected, `cmp rdi, rsi; cmov${x64.COND_NAMES[cc]} (register ${dst}), r10: a = ${a}, b = ${b}`));
        }
      } else {
        const { Reg } = a64;
        withCode(wordsToBytes([a64.smulh(Reg.x2, Reg.x0, Reg.x1), a64.mov_reg(Reg.x0, Reg.x2), a64.ret()]), 2,
          (fn) => same(fn(a, b), high, `smulh x2, x0, x1: the high half of ${a} * ${b}`));
        withCode(wordsToBytes([a64.madd(Reg.x3, Reg.x0, Reg.x1, Reg.x2), a64.msub(Reg.x0, Reg.x3, Reg.x1, Reg.x0), a64.ret()]), 3,
          (fn) => same(fn(a, b, 5n), i64(a - (5n + a * b) * b), `madd x3, x0, x1, x2; msub x0, x3, x1, x0 with ${a}, ${b}, 5`));
      }
    }
  },
  { points: 1, hints: [
    'The one-operand imul multiplies rax by its operand and leaves the 128-bit product in rdx (high) and rax (low): REX.W F7 /5.',
    'cmovcc dst, src copies src into dst when cc holds and leaves dst alone otherwise; dst is ModRM.reg.',
    'smulh is the Data-processing (3 source) class with op31 = 010 and Ra = 11111.',
  ] },
);

check(
  'executes indexed loads and stores (r12/r13 as index and base; [xn, xm, lsl #3]) and addresses of code (lea rip; adr)',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const index = Math.floor(t.random() * 8);
      const constant = randomI64(t);
      if (t.arch === 'x64') {
        const { Reg, mem } = x64;
        // Store a through [r12 + r13*8 - 8] (r12 = rsp + 8, r13 = index), then read the same slot
        // three ways: [rsp + 8*index], [rsp + r13*8], and [r13 + r12*1] with r13 = index*8, r12 = rsp.
        const code = bytesOf([
          x64.push_r(Reg.r12), x64.push_r(Reg.r13), x64.subq_ri(Reg.rsp, 80),
          x64.movq_rr(Reg.r13, Reg.rsi), x64.leaq_rm(Reg.r12, mem(Reg.rsp, 8)),
          x64.movq_mr(mem(Reg.r12, Reg.r13, 8, -8), Reg.rdi),
          x64.movq_rm(Reg.rax, mem(Reg.rsp, 8 * index)),
          x64.movq_rm(Reg.rdx, mem(Reg.rsp, Reg.r13, 8, 0)),
          x64.addq_rr(Reg.rax, Reg.rdx),
          x64.movq_rr(Reg.r12, Reg.rsp), x64.shlq_ri(Reg.r13, 3),
          x64.movq_rm(Reg.rcx, mem(Reg.r13, Reg.r12, 1, 0)),
          x64.addq_rr(Reg.rax, Reg.rcx),
          x64.addq_ri(Reg.rsp, 80), x64.pop_r(Reg.r13), x64.pop_r(Reg.r12), x64.ret(),
        ]);
        withCode(code, 2, (fn) => same(fn(a, BigInt(index)), i64(3n * a), `a store through [r12 + r13*8 - 8] read back three ways (index ${index}, value ${a})`));
        // lea rax, [rip + 5]; mov rax, [rax]; ret; int3; then the constant's eight bytes (at 7 + 5).
        const lead = bytesOf([x64.leaq_rip(Reg.rax, 5), x64.movq_rm(Reg.rax, mem(Reg.rax, 0)), x64.ret(), x64.int3()]);
        const data = Array.from({ length: 8 }, (_, k) => Number((u64(constant) >> BigInt(8 * k)) & 0xffn));
        withCode(bytesOf([[...lead], data]), 0, (fn) => same(fn(), constant, `lea rax, [rip + 5]; mov rax, [rax]: the constant ${constant} stored after the code`));
        withCode(bytesOf([x64.movabsq_ri(Reg.r10, constant), x64.movq_rr(Reg.rax, Reg.r10), x64.ret()]), 0,
          (fn) => same(fn(), constant, `movabs r10, ${constant}`));
      } else {
        const { Reg } = a64;
        // sub sp, sp, #64; str x0, [sp, x1, lsl #3]; ldr x2, [sp, #8*index]; lsl x3, x1, #3; ldr x4, [sp, x3]
        // add x0, x2, x4; add sp, sp, #64; ret
        const code = wordsToBytes([
          a64.sub_imm(Reg.sp, Reg.sp, 64), a64.str_reg(Reg.x0, Reg.sp, Reg.x1), a64.ldr_imm(Reg.x2, Reg.sp, 8 * index),
          a64.lsl_imm(Reg.x3, Reg.x1, 3), a64.ldr_reg(Reg.x4, Reg.sp, Reg.x3, 0), a64.mov_reg(Reg.x5, Reg.sp),
          a64.ldr_reg(Reg.x6, Reg.x5, Reg.x1), a64.add_reg(Reg.x0, Reg.x2, Reg.x4), a64.add_reg(Reg.x0, Reg.x0, Reg.x6),
          a64.add_imm(Reg.sp, Reg.sp, 64), a64.ret(),
        ]);
        withCode(code, 2, (fn) => same(fn(a, BigInt(index)), i64(3n * a), `str x0, [sp, x1, lsl #3] read back three ways (index ${index}, value ${a})`));
        // adr x1, data + 3; ldur x0, [x1, #-3]; ret; data
        const data = [Number(u64(constant) & 0xffffffffn), Number(u64(constant) >> 32n)];
        const lead = wordsToBytes([a64.adr(Reg.x1, 12 + 3), a64.ldur(Reg.x0, Reg.x1, -3), a64.ret(), ...data]);
        withCode(lead, 0, (fn) => same(fn(), constant, `adr x1, data+3; ldur x0, [x1, #-3]: the constant ${constant} stored after the code`));
      }
    }
  },
  { points: 1, hints: [
    'x86-64: r12 and r13 are ordinary index registers (REX.X carries their bit 3); only rsp cannot be an index. As a base, r12 needs a SIB byte and r13 a zero disp8, with or without an index.',
    'lea r, [rip + rel] counts rel from the end of the lea (7 bytes long).',
    'AArch64 register offset: S = 1 scales the index by 8; adr splits its offset into immlo (bits 30..29) and immhi (bits 23..5).',
  ] },
);

check(
  'executes shifts by immediates and by a register',
  (t) => {
    for (let i = 0; i < TRIALS * 2; i++) {
      const a = randomI64(t);
      const count = i < 4 ? [0, 1, 63, 32][i]! : Math.floor(t.random() * 64);
      const n = BigInt(count);
      const expected = { shl: i64(a << n), shr: i64(u64(a) >> n), sar: a >> n };
      for (const kind of ['shl', 'shr', 'sar'] as const) {
        if (t.arch === 'x64') {
          const { Reg } = x64;
          const byImm = { shl: x64.shlq_ri, shr: x64.shrq_ri, sar: x64.sarq_ri }[kind];
          const byCl = { shl: x64.shlq_rcl, shr: x64.shrq_rcl, sar: x64.sarq_rcl }[kind];
          withCode(bytesOf([x64.movq_rr(Reg.rax, Reg.rdi), byImm(Reg.rax, count), x64.ret()]), 1, (fn) => same(fn(a), expected[kind], `${kind} rax, ${count} with rax = ${a}`));
          withCode(bytesOf([x64.movq_rr(Reg.rcx, Reg.rsi), x64.movq_rr(Reg.r8, Reg.rdi), byCl(Reg.r8), x64.movq_rr(Reg.rax, Reg.r8), x64.ret()]), 2,
            (fn) => same(fn(a, n), expected[kind], `${kind} r8, cl with r8 = ${a}, cl = ${count}`));
        } else {
          const { Reg } = a64;
          const byImm = { shl: a64.lsl_imm, shr: a64.lsr_imm, sar: a64.asr_imm }[kind];
          const byReg = { shl: a64.lslv, shr: a64.lsrv, sar: a64.asrv }[kind];
          const name = { shl: 'lsl', shr: 'lsr', sar: 'asr' }[kind];
          withCode(wordsToBytes([byImm(Reg.x0, Reg.x0, count), a64.ret()]), 1, (fn) => same(fn(a), expected[kind], `${name} x0, x0, #${count} with x0 = ${a}`));
          withCode(wordsToBytes([byReg(Reg.x0, Reg.x0, Reg.x1), a64.ret()]), 2, (fn) => same(fn(a, n), expected[kind], `${name} x0, x0, x1 with x0 = ${a}, x1 = ${count}`));
        }
      }
    }
  },
  { points: 2, hints: ['shl /4, shr /5, sar /7; by cl is D3 /n. shr fills with zeros, sar with the sign bit.', 'lsl #s is ubfm with immr = (64 - s) % 64 and imms = 63 - s; lsr #s is ubfm #s, #63; asr #s is sbfm #s, #63.', 'A shift by 0 must leave the value unchanged.'] },
);

/** What each condition says after `cmp a, b` (flags of a - b). */
function conditionHolds(arch: 'x64' | 'arm64', cc: number, a: bigint, b: bigint): boolean {
  const result = i64(a - b);
  const zero = result === 0n;
  const negative = result < 0n;
  const overflow = result !== a - b;
  const borrow = u64(a) < u64(b);
  if (arch === 'x64') {
    let ones = 0;
    for (let v = Number(u64(result) & 0xffn); v; v >>= 1) ones += v & 1;
    const parity = ones % 2 === 0;
    const table = [overflow, !overflow, borrow, !borrow, zero, !zero, borrow || zero, !borrow && !zero,
      negative, !negative, parity, !parity, negative !== overflow, negative === overflow, zero || negative !== overflow, !zero && negative === overflow];
    return table[cc]!;
  }
  const carry = !borrow;
  const table = [zero, !zero, carry, !carry, negative, !negative, overflow, !overflow,
    carry && !zero, !carry || zero, negative === overflow, negative !== overflow, !zero && negative === overflow, zero || negative !== overflow, true, true];
  return table[cc]!;
}

check(
  'executes compares with setcc/cset and csel for every condition',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const b = i % 3 === 0 ? a : i % 3 === 1 ? randomI64(t) : i64(a + BigInt(Math.floor(t.random() * 5) - 2));
      for (let cc = 0; cc < 16; cc++) {
        const expected = conditionHolds(t.arch, cc, a, b) ? 1n : 0n;
        if (t.arch === 'x64') {
          const { Reg } = x64;
          const names = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
          // Caller-saved registers only, including sil and dil, which need the empty REX.
          const target = [Reg.rax, Reg.rsi, Reg.rdi, Reg.rcx, Reg.r8, Reg.r9, Reg.r10, Reg.r11, Reg.rdx][(cc + i) % 9]!;
          const code = bytesOf([x64.cmpq_rr(Reg.rdi, Reg.rsi), x64.setcc_r(cc as never, target), x64.movzxb_rr(Reg.rax, target), x64.ret()]);
          withCode(code, 2, (fn) => same(fn(a, b), expected, `cmp rdi, rsi; set${names[cc]} (register ${target}); movzx: a = ${a}, b = ${b}`));
        } else {
          const { Reg } = a64;
          if (cc < 14) {
            const code = wordsToBytes([a64.cmp_reg(Reg.x0, Reg.x1), a64.cset(Reg.x0, cc as never), a64.ret()]);
            withCode(code, 2, (fn) => same(fn(a, b), expected, `cmp x0, x1; cset x0, ${a64.COND_NAMES[cc]}: a = ${a}, b = ${b}`));
          }
          const pick = wordsToBytes([a64.cmp_reg(Reg.x0, Reg.x1), a64.movz(Reg.x2, 11), a64.movz(Reg.x3, 22), a64.csel(Reg.x0, Reg.x2, Reg.x3, cc as never), a64.ret()]);
          withCode(pick, 2, (fn) => same(fn(a, b), expected ? 11n : 22n, `cmp x0, x1; csel x0, x2, x3, ${a64.COND_NAMES[cc]}: a = ${a}, b = ${b}`));
        }
      }
      // Compare with an immediate too.
      const imm = Math.floor(t.random() * 4096);
      if (t.arch === 'x64') {
        const code = bytesOf([x64.cmpq_ri(x64.Reg.rdi, imm), x64.setcc_r(x64.Cond.l, x64.Reg.rax), x64.movzxb_rr(x64.Reg.rax, x64.Reg.rax), x64.ret()]);
        withCode(code, 1, (fn) => same(fn(a), a < BigInt(imm) ? 1n : 0n, `cmp rdi, ${imm}; setl: rdi = ${a}`));
      } else {
        const code = wordsToBytes([a64.cmp_imm(a64.Reg.x0, imm), a64.cset(a64.Reg.x0, a64.Cond.lt), a64.ret()]);
        withCode(code, 1, (fn) => same(fn(a), a < BigInt(imm) ? 1n : 0n, `cmp x0, #${imm}; cset lt: x0 = ${a}`));
      }
    }
  },
  { points: 2, hints: ['Condition numbers are the hardware\'s: the opposite of cc is cc ^ 1.', 'x86-64: setcc writes one byte; sil/dil need the empty REX (0x40). movzx then clears the upper bits.', 'AArch64: cset rd, cc is csinc rd, xzr, xzr with the inverted condition.'] },
);

check(
  'executes jumps and branches (forward, backward, conditional)',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const b = randomI64(t);
      const max = a > b ? a : b;
      if (t.arch === 'x64') {
        const { Reg, Cond } = x64;
        // max(a, b) with a short forward jump: mov rax, rdi; cmp rdi, rsi; jge +3; mov rax, rsi; ret
        const short = bytesOf([x64.movq_rr(Reg.rax, Reg.rdi), x64.cmpq_rr(Reg.rdi, Reg.rsi), x64.jcc_rel8(Cond.ge, 3), x64.movq_rr(Reg.rax, Reg.rsi), x64.ret()]);
        withCode(short, 2, (fn) => same(fn(a, b), max, `max(${a}, ${b}) with jge rel8`));
        // The same with rel32 jumps, jumping over padding: jl +N (to mov rax, rsi); mov rax, rdi; jmp +M (to ret)
        const pad = Array.from({ length: 200 }, () => x64.nop());
        const tail = bytesOf([x64.movq_rr(Reg.rax, Reg.rsi), x64.ret()]);
        const middle = bytesOf([x64.movq_rr(Reg.rax, Reg.rdi), x64.jmp_rel32(200 + 3), ...pad]);
        const long = bytesOf([x64.cmpq_rr(Reg.rdi, Reg.rsi), x64.jcc_rel32(Cond.l, middle.length), [...middle], [...tail]]);
        withCode(long, 2, (fn) => same(fn(a, b), max, `max(${a}, ${b}) with jl rel32 and jmp rel32`));
        // A backward jump: count rdi down to zero in rax steps. rax = 0; loop: add rax, 1; sub rdi, 1; jnz loop
        const n = BigInt(Math.floor(t.random() * 50));
        const loop = bytesOf([x64.movq_ri(Reg.rax, 0n), x64.testq_rr(Reg.rdi, Reg.rdi), x64.jcc_rel8(Cond.e, 10),
          x64.addq_ri(Reg.rax, 1), x64.subq_ri(Reg.rdi, 1), x64.jcc_rel8(Cond.ne, -10), x64.ret()]);
        withCode(loop, 1, (fn) => same(fn(n), n, `a loop of ${n} iterations with a backward jne rel8`));
      } else {
        const { Reg, Cond } = a64;
        const short = wordsToBytes([a64.cmp_reg(Reg.x0, Reg.x1), a64.b_cond(Cond.ge, 8), a64.mov_reg(Reg.x0, Reg.x1), a64.ret()]);
        withCode(short, 2, (fn) => same(fn(a, b), max, `max(${a}, ${b}) with b.ge`));
        const viaB = wordsToBytes([a64.cmp_reg(Reg.x0, Reg.x1), a64.b_cond(Cond.lt, 12), a64.b(12), a64.udf(1), a64.mov_reg(Reg.x0, Reg.x1), a64.ret()]);
        withCode(viaB, 2, (fn) => same(fn(a, b), max, `max(${a}, ${b}) with b.lt and b`));
        const zeroTest = wordsToBytes([a64.cbz(Reg.x0, 12), a64.movz(Reg.x0, 1), a64.ret(), a64.movz(Reg.x0, 2), a64.ret()]);
        withCode(zeroTest, 1, (fn) => same(fn(a), a === 0n ? 2n : 1n, `cbz with x0 = ${a}`));
        const nonZero = wordsToBytes([a64.cbnz(Reg.x0, 12), a64.movz(Reg.x0, 1), a64.ret(), a64.movz(Reg.x0, 2), a64.ret()]);
        withCode(nonZero, 1, (fn) => same(fn(a), a !== 0n ? 2n : 1n, `cbnz with x0 = ${a}`));
        const bit = Math.floor(t.random() * 64);
        const bitTest = wordsToBytes([a64.tbnz(Reg.x0, bit, 12), a64.movz(Reg.x0, 1), a64.ret(), a64.movz(Reg.x0, 2), a64.ret()]);
        withCode(bitTest, 1, (fn) => same(fn(a), (u64(a) >> BigInt(bit)) & 1n ? 2n : 1n, `tbnz x0, #${bit} with x0 = ${a}`));
        const n = BigInt(Math.floor(t.random() * 50));
        // x1 = 0; cbz x0, done; loop: add x1, x1, #1; subs x0, x0, #1; b.ne loop; done: mov x0, x1; ret
        const loop = wordsToBytes([a64.movz(Reg.x1, 0), a64.cbz(Reg.x0, 16), a64.add_imm(Reg.x1, Reg.x1, 1), a64.subs_imm(Reg.x0, Reg.x0, 1),
          a64.b_cond(Cond.ne, -8), a64.mov_reg(Reg.x0, Reg.x1), a64.ret()]);
        withCode(loop, 1, (fn) => same(fn(n), n, `a loop of ${n} iterations with a backward b.ne`));
      }
    }
  },
  { points: 2, hints: ['x86-64 rel8/rel32 count from the END of the jump; AArch64 offsets count from the branch itself.', 'A negative displacement is two\'s complement in its field: jne -10 is 75 f6.', 'On AArch64 the imm fields count instructions: offset / 4.'] },
);

check(
  'executes loads and stores on the stack (push/pop, rsp/rbp/r12/r13 bases, pre/post index, pairs)',
  (t) => {
    for (let i = 0; i < TRIALS; i++) {
      const a = randomI64(t);
      const b = randomI64(t);
      if (t.arch === 'x64') {
        const { Reg, mem } = x64;
        withCode(bytesOf([x64.push_r(Reg.rdi), x64.push_r(Reg.rsi), x64.pop_r(Reg.rax), x64.pop_r(Reg.r11), x64.subq_rr(Reg.rax, Reg.r11), x64.ret()]), 2,
          (fn) => same(fn(a, b), i64(b - a), `push rdi; push rsi; pop rax; pop r11; sub rax, r11 with ${a}, ${b}`));
        // Every awkward base register: rsp and r12 (need SIB), rbp and r13 (need a zero disp8),
        // with disp8 and disp32 on both sides of the boundary and an index register.
        const code = bytesOf([
          x64.push_r(Reg.rbp), x64.push_r(Reg.r12), x64.push_r(Reg.r13),
          x64.subq_ri(Reg.rsp, 512),
          x64.movq_mr(mem(Reg.rsp, 0), Reg.rdi), // [rsp] = a
          x64.movq_rr(Reg.rbp, Reg.rsp),
          x64.leaq_rm(Reg.r12, mem(Reg.rsp, 8)),
          x64.leaq_rm(Reg.r13, mem(Reg.rsp, 16)),
          x64.movq_mr(mem(Reg.r12, 0), Reg.rsi), // [rsp+8] = b
          x64.movq_rm(Reg.rax, mem(Reg.rbp, 0)), // rax = a
          x64.movq_mr(mem(Reg.r13, 0), Reg.rax), // [rsp+16] = a
          x64.movq_mr(mem(Reg.r13, 300), Reg.rax), // [rsp+316] = a
          x64.movq_mr(mem(Reg.rsp, 128), Reg.rsi), // [rsp+128] = b
          x64.movq_rm(Reg.rdx, mem(Reg.r12, 0)), // rdx = b
          x64.movq_rm(Reg.rcx, mem(Reg.rsp, 316)), // rcx = a
          x64.movq_mi(mem(Reg.rbp, 400), -3), // [rsp+400] = -3
          x64.movq_ri(Reg.r9, 2n),
          x64.movq_rm(Reg.r8, mem(Reg.rbp, Reg.r9, 8, 0)), // r8 = [rsp+16] = a
          x64.leaq_rm(Reg.rbp, mem(Reg.rsp, 256)),
          x64.movq_rm(Reg.r10, mem(Reg.rbp, -256)), // r10 = [rsp] = a
          x64.movq_rm(Reg.r11, mem(Reg.rbp, -128)), // r11 = [rsp+128] = b
          x64.subq_rr(Reg.rax, Reg.rdx), // a - b
          x64.addq_rr(Reg.rax, Reg.rcx), // + a
          x64.addq_rr(Reg.rax, Reg.r8), // + a
          x64.movq_rm(Reg.rcx, mem(Reg.r13, 384)), // rcx = [rsp+400] = -3
          x64.addq_rr(Reg.rax, Reg.rcx), // - 3
          x64.imulq_rr(Reg.r10, Reg.r11), // a * b
          x64.xorq_rr(Reg.rax, Reg.r10), // ^ (a * b)
          x64.addq_ri(Reg.rsp, 512),
          x64.pop_r(Reg.r13), x64.pop_r(Reg.r12), x64.pop_r(Reg.rbp),
          x64.ret(),
        ]);
        withCode(code, 2, (fn) => same(fn(a, b), i64(i64(3n * a - b - 3n) ^ i64(a * b)), `stores and loads through rsp, rbp, r12, r13 with a = ${a}, b = ${b}`));
        const k = BigInt(Math.floor(t.random() * 1000));
        withCode(bytesOf([x64.leaq_rm(Reg.rax, mem(Reg.rdi, Reg.rsi, 8, Number(k))), x64.ret()]), 2,
          (fn) => same(fn(a, b), i64(a + b * 8n + k), `lea rax, [rdi + rsi*8 + ${k}] with ${a}, ${b}`));
        const indexed = bytesOf([x64.push_r(Reg.r12), x64.push_r(Reg.r13), x64.movq_rr(Reg.r13, Reg.rdi), x64.movq_rr(Reg.r12, Reg.rsi),
          x64.leaq_rm(Reg.rax, mem(Reg.r13, Reg.r12, 4, 0)), x64.pop_r(Reg.r13), x64.pop_r(Reg.r12), x64.ret()]);
        withCode(indexed, 2, (fn) => same(fn(a, b), i64(a + b * 4n), `lea rax, [r13 + r12*4] with ${a}, ${b}`));
      } else {
        const { Reg } = a64;
        const code = wordsToBytes([
          a64.stp_pre(Reg.fp, Reg.lr, Reg.sp, -16),
          a64.sub_imm(Reg.sp, Reg.sp, 64),
          a64.str_imm(Reg.x0, Reg.sp, 8),
          a64.stur(Reg.x1, Reg.sp, 17), // unaligned, unscaled
          a64.mov_reg(Reg.x9, Reg.sp),
          a64.str_post(Reg.x0, Reg.x9, 32), // [sp] = a, x9 = sp + 32
          a64.str_pre(Reg.x1, Reg.x9, 8), // [sp + 40] = b
          a64.ldr_post(Reg.x2, Reg.x9, -40), // x2 = b, x9 = sp
          a64.ldr_pre(Reg.x3, Reg.x9, 8), // x3 = [sp + 8] = a
          a64.ldur(Reg.x4, Reg.sp, 17), // b
          a64.stp(Reg.x3, Reg.x4, Reg.sp, 48), // [sp+48] = a, [sp+56] = b
          a64.ldp(Reg.x5, Reg.x6, Reg.sp, 48),
          a64.ldr_imm(Reg.x7, Reg.sp, 0), // a
          // x0 = x2 - x3 + x4 + x5 - x6 + x7 = b - a + b + a - b + a = a + b
          a64.sub_reg(Reg.x0, Reg.x2, Reg.x3),
          a64.add_reg(Reg.x0, Reg.x0, Reg.x4),
          a64.add_reg(Reg.x0, Reg.x0, Reg.x5),
          a64.sub_reg(Reg.x0, Reg.x0, Reg.x6),
          a64.add_reg(Reg.x0, Reg.x0, Reg.x7),
          a64.add_imm(Reg.sp, Reg.sp, 64),
          a64.ldp_post(Reg.fp, Reg.lr, Reg.sp, 16),
          a64.ret(),
        ]);
        withCode(code, 2, (fn) => same(fn(a, b), i64(a + b), `stores and loads through sp (scaled, unscaled, pre/post index, pairs) with a = ${a}, b = ${b}`));
        const shifted = wordsToBytes([a64.add_reg(Reg.x0, Reg.x0, Reg.x1, a64.Shift.lsl, 3), a64.ret()]);
        withCode(shifted, 2, (fn) => same(fn(a, b), i64(a + (b << 3n)), `add x0, x0, x1, lsl #3 with ${a}, ${b}`));
      }
    }
  },
  { points: 2, hints: ['A crash here usually means a wrong base register or a missing SIB byte: [rsp] and [r12] need one, [rbp] and [r13] need a zero disp8.', 'On AArch64, pre-index updates the base before the access, post-index after; the base (31) is sp.', 'Keep sp 16-byte aligned on AArch64 whenever it is used as a base.'] },
);

check(
  'executes 64-bit constants (mov imm32/movabs; movz/movk/movn)',
  (t) => {
    const values = [0n, 1n, -1n, MIN, MAX, 0x7fffffffn, 0x80000000n, -0x80000000n, -0x80000001n, 0xffffffffn, 0x123456789abcdef0n];
    for (let i = 0; i < TRIALS * 2; i++) values.push(randomI64(t));
    for (const value of values) {
      if (t.arch === 'x64') {
        const reg = [x64.Reg.rax, x64.Reg.r10, x64.Reg.rcx][values.indexOf(value) % 3]!;
        withCode(bytesOf([x64.movq_ri(reg, value), x64.movq_rr(x64.Reg.rax, reg), x64.ret()]), 0, (fn) => same(fn(), value, `mov r${reg}, ${value}`));
        withCode(bytesOf([x64.movq_ri(x64.Reg.rax, u64(value)), x64.ret()]), 0, (fn) => same(fn(), value, `mov rax, ${u64(value)} (given unsigned)`));
      } else {
        const { Reg } = a64;
        const u = u64(value);
        const halves = [0, 1, 2, 3].map((k) => Number((u >> BigInt(16 * k)) & 0xffffn));
        const words = [a64.movz(Reg.x0, halves[0]!, 0), a64.movk(Reg.x0, halves[1]!, 16), a64.movk(Reg.x0, halves[2]!, 32), a64.movk(Reg.x0, halves[3]!, 48), a64.ret()];
        withCode(wordsToBytes(words), 0, (fn) => same(fn(), value, `movz/movk x0, ${value}`));
        const inverted = u64(~value);
        if ((inverted & ~0xffffn) === 0n) {
          withCode(wordsToBytes([a64.movn(Reg.x0, Number(inverted), 0), a64.ret()]), 0, (fn) => same(fn(), value, `movn x0, #${inverted}`));
        }
        const top = Number(u >> 48n);
        withCode(wordsToBytes([a64.movn(Reg.x0, top, 48), a64.ret()]), 0, (fn) => same(fn(), i64(~(BigInt(top) << 48n)), `movn x0, #${top}, lsl #48`));
      }
    }
  },
  { points: 2, hints: ['movq_ri must give the same 64-bit value whether it chose the 7-byte or the 10-byte form.', 'movz zeroes the other 48 bits; movk keeps them; movn writes the inverse.', 'hw = shift / 16 goes in bits 22:21.'] },
);

check(
  'executes calls (call rel32 / call r; bl / blr)',
  (t) => {
    for (let i = 0; i < TRIALS / 2; i++) {
      const a = randomI64(t);
      const b = randomI64(t);
      if (t.arch === 'x64') {
        const { Reg, mem } = x64;
        // main: call f; add rax, 1; ret      f: lea rax, [rdi + rsi]; ret
        const f = bytesOf([x64.leaq_rm(Reg.rax, mem(Reg.rdi, Reg.rsi, 1, 0)), x64.ret()]);
        const main = bytesOf([x64.call_rel32(x64.addq_ri(Reg.rax, 1).length + 1), x64.addq_ri(Reg.rax, 1), x64.ret()]);
        withCode(bytesOf([[...main], [...f]]), 2, (fn) => same(fn(a, b), i64(a + b + 1n), `call rel32 to a function computing a + b, then + 1`));
        // call through a register: the region's address is known once it is allocated.
        const region = ch01.CodeRegion.allocate(64);
        try {
          const fAt = 32;
          const caller = bytesOf([x64.push_r(Reg.rbx), x64.movq_ri(Reg.rbx, region.address + BigInt(fAt)), x64.call_r(Reg.rbx), x64.negq_r(Reg.rax), x64.pop_r(Reg.rbx), x64.ret()]);
          region.write(0, caller);
          region.write(fAt, f);
          region.seal();
          same(region.function(0, 2)(a, b), i64(-(a + b)), `call rbx (an absolute address) then neg`);
        } finally {
          region.dispose();
        }
      } else {
        const { Reg } = a64;
        // main: stp fp, lr, [sp, #-16]!; bl f; add x0, x0, #1; ldp fp, lr, [sp], #16; ret    f: add x0, x0, x1; ret
        const main = [a64.stp_pre(Reg.fp, Reg.lr, Reg.sp, -16), a64.bl(16), a64.add_imm(Reg.x0, Reg.x0, 1), a64.ldp_post(Reg.fp, Reg.lr, Reg.sp, 16), a64.ret()];
        const f = [a64.add_reg(Reg.x0, Reg.x0, Reg.x1), a64.ret()];
        withCode(wordsToBytes([...main, ...f]), 2, (fn) => same(fn(a, b), i64(a + b + 1n), `bl to a function computing a + b, then + 1`));
        const region = ch01.CodeRegion.allocate(64);
        try {
          const fAt = 40n;
          const target = region.address + fAt;
          const halves = [0, 1, 2, 3].map((k) => Number((target >> BigInt(16 * k)) & 0xffffn));
          const caller = [a64.stp_pre(Reg.fp, Reg.lr, Reg.sp, -16), a64.movz(Reg.x9, halves[0]!, 0), a64.movk(Reg.x9, halves[1]!, 16), a64.movk(Reg.x9, halves[2]!, 32),
            a64.movk(Reg.x9, halves[3]!, 48), a64.blr(Reg.x9), a64.neg(Reg.x0, Reg.x0), a64.ldp_post(Reg.fp, Reg.lr, Reg.sp, 16), a64.ret()];
          region.write(0, wordsToBytes(caller));
          region.write(Number(fAt), wordsToBytes(f));
          region.seal();
          same(region.function(0, 2)(a, b), i64(-(a + b)), `blr x9 (an absolute address) then neg`);
        } finally {
          region.dispose();
        }
      }
    }
  },
  { points: 2, hints: ['call rel32 counts from the end of the call (which is also the return address it pushes).', 'On AArch64, bl overwrites x30: save fp and lr with stp before calling, restore them with ldp before ret.', 'call r is FF /2, blr is 0xd63f0000 | Rn << 5.'] },
);
