/**
 * Chapter 04: the MacroAssembler's methods, executed. Arithmetic against BigInt on random
 * operands with every aliasing of dst, a and b (and, on x86-64, operands in rax, rdx and
 * rcx), division, every condition on edge values, constants, frames and slots, callee-saved
 * registers across calls, calls to labels and to absolute addresses, recursion.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, type CheckContext } from '#harness/check.ts';
import type { Condition, MacroAssembler, Register } from '#ch04/macro-assembler.ts';
import {
  binaryFunction, build, CONDITIONS, EDGES, freeRegisters, holds, i64, MAX, MIN, Mismatch, newMasm, pick, randomI64, regName, same, SP, u64, withCode,
} from './support.ts';

const ch01 = await learnerCode(import('#ch01/code-region.ts'));

type Op = (m: MacroAssembler, d: Register, a: Register, b: Register) => void;
type Ref = (a: bigint, b: bigint) => bigint;

/** Register choices (ra, rb, rd) for every aliasing pattern, with rax/rdx/rcx favoured on x86-64. */
function registerChoices(t: CheckContext, m: MacroAssembler): { name: string; ra: Register; rb: Register; rd: Register }[] {
  const pool = freeRegisters(m);
  const distinct = (): [Register, Register, Register] => {
    const shuffled = [...pool].sort(() => t.random() - 0.5);
    return [shuffled[0]!, shuffled[1]!, shuffled[2]!];
  };
  const choices: { name: string; ra: Register; rb: Register; rd: Register }[] = [];
  for (let k = 0; k < 2; k++) {
    const [x, y, z] = distinct();
    choices.push({ name: 'distinct', ra: x, rb: y, rd: z });
    choices.push({ name: 'dst == a', ra: x, rb: y, rd: x });
    choices.push({ name: 'dst == b', ra: x, rb: y, rd: y });
    choices.push({ name: 'a == b', ra: x, rb: x, rd: z });
    choices.push({ name: 'dst == a == b', ra: x, rb: x, rd: x });
  }
  if (t.arch === 'x64') {
    const [rax, rcx, rdx] = [0, 1, 2];
    for (const [ra, rb, rd] of [[rax, rdx, rcx], [rdx, rax, rcx], [rcx, rdx, rax], [rdx, rcx, rax], [rax, rcx, rdx], [rcx, rax, rdx], [rdx, rcx, rdx], [rcx, rdx, rcx], [rax, rdx, rdx], [rdx, rax, rax], [rcx, rcx, rdx], [rdx, rdx, rcx]] as const) {
      choices.push({ name: 'rax/rcx/rdx', ra, rb, rd });
    }
  }
  return choices;
}

function runBinary(t: CheckContext, name: string, op: Op, ref: Ref, operands: () => [bigint, bigint]): void {
  const probe = newMasm(t);
  for (const { name: pattern, ra, rb, rd } of registerChoices(t, probe)) {
    const code = binaryFunction(t, ra, rb, rd, (m) => op(m, rd, ra, rb));
    withCode(code, 2, (fn) => {
      for (let k = 0; k < 4; k++) {
        const [a, b] = operands();
        const expected = i64(ref(ra === rb ? b : a, b));
        const shown = `${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) [${pattern}] with ${regName(t.arch, ra)} = ${ra === rb ? b : a}, ${regName(t.arch, rb)} = ${b}`;
        same(fn(a, b), expected, shown, code, t.arch);
      }
    });
  }
}

const randomPair = (t: CheckContext) => (): [bigint, bigint] => [randomI64(t), randomI64(t)];

check(
  'add, sub, mul, and, or, xor match BigInt with any aliasing of dst, a and b',
  (t) => {
    const ops: [string, Op, Ref][] = [
      ['add', (m, d, a, b) => m.add(d, a, b), (a, b) => a + b],
      ['sub', (m, d, a, b) => m.sub(d, a, b), (a, b) => a - b],
      ['mul', (m, d, a, b) => m.mul(d, a, b), (a, b) => a * b],
      ['and', (m, d, a, b) => m.and(d, a, b), (a, b) => a & b],
      ['or', (m, d, a, b) => m.or(d, a, b), (a, b) => a | b],
      ['xor', (m, d, a, b) => m.xor(d, a, b), (a, b) => a ^ b],
    ];
    for (const [name, op, ref] of ops) runBinary(t, name, op, ref, randomPair(t));
  },
  {
    points: 2,
    hints: [
      'dst = a op b where dst may be the same register as a or b. x86-64 instructions have two operands (dst op= src), so `mov dst, a; op dst, b` breaks when dst == b.',
      'For a commutative op with dst == b, compute dst op= a. For sub with dst == b: neg dst; add dst, a (or go through a temporary).',
      'AArch64 instructions take three registers: one instruction, no special cases.',
    ],
  },
);

check(
  'neg, not and addImmediate match BigInt',
  (t) => {
    const pool = freeRegisters(newMasm(t));
    for (let k = 0; k < 6; k++) {
      const ra = pick(t, pool);
      const rd = k % 2 === 0 ? ra : pick(t, pool);
      for (const [name, ref] of [['neg', (a: bigint) => -a], ['not', (a: bigint) => ~a]] as const) {
        const code = binaryFunction(t, ra, ra, rd, (m) => (name === 'neg' ? m.neg(rd, ra) : m.not(rd, ra)));
        withCode(code, 2, (fn) => {
          for (const a of [randomI64(t), MIN, 0n, -1n]) same(fn(0n, a), i64(ref(a)), `${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}) with ${a}`, code, t.arch);
        });
      }
    }
    const immediates = [0, 1, -1, 127, 128, -128, -129, 4095, 4096, -4096, 0xfff000, 0x1001, -0x12345, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 40 + 3, -(2 ** 45)];
    for (const value of immediates) {
      const ra = pick(t, pool);
      const rd = t.random() < 0.5 ? ra : pick(t, pool);
      const code = binaryFunction(t, ra, ra, rd, (m) => m.addImmediate(rd, ra, value));
      withCode(code, 2, (fn) => {
        for (const a of [randomI64(t), 0n, MAX]) same(fn(0n, a), i64(a + BigInt(value)), `addImmediate(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${value}) with ${a}`, code, t.arch);
      });
    }
  },
  {
    hints: [
      'addImmediate takes any number: small ones fit the instruction (imm8/imm32 on x86-64, imm12 on AArch64, sub for negatives); others go through the masm\'s internal register.',
      'x86-64: lea dst, [a + value] adds without a separate mov when dst != a.',
      'AArch64: add/sub (immediate) take 0..4095, or a multiple of 4096 up to 0xfff000.',
    ],
  },
);

check(
  'shl, sar and shr shift by b & 63, from any registers (rcx included on x86-64)',
  (t) => {
    const counts = (): [bigint, bigint] => {
      const a = randomI64(t);
      const r = t.random();
      const b = r < 0.2 ? pick(t, [0n, 1n, 63n, 64n, 65n, 127n, -1n]) : BigInt(Math.floor(t.random() * 64));
      return [a, b];
    };
    const shift = (kind: 'shl' | 'sar' | 'shr') => (a: bigint, b: bigint): bigint => {
      const n = b & 63n;
      return kind === 'shl' ? a << n : kind === 'sar' ? a >> n : u64(a) >> n;
    };
    runBinary(t, 'shl', (m, d, a, b) => m.shl(d, a, b), shift('shl'), counts);
    runBinary(t, 'sar', (m, d, a, b) => m.sar(d, a, b), shift('sar'), counts);
    runBinary(t, 'shr', (m, d, a, b) => m.shr(d, a, b), shift('shr'), counts);
    // By a count known while compiling: the result, and a bystander register left alone (rcx on x86-64).
    const pool = t.arch === 'x64' ? [0, 1, 2, ...freeRegisters(newMasm(t))] : freeRegisters(newMasm(t));
    const immediateOps = [
      ['shlImmediate', (m: MacroAssembler, d: Register, a: Register, n: number) => m.shlImmediate(d, a, n), shift('shl')],
      ['sarImmediate', (m: MacroAssembler, d: Register, a: Register, n: number) => m.sarImmediate(d, a, n), shift('sar')],
      ['shrImmediate', (m: MacroAssembler, d: Register, a: Register, n: number) => m.shrImmediate(d, a, n), shift('shr')],
    ] as const;
    for (const [name, op, ref] of immediateOps) {
      for (const n of [0, 1, 2, 3, 31, 32, 63, Math.floor(t.random() * 64)]) {
        const [ra, rb] = [...new Set(pool)].sort(() => t.random() - 0.5) as [Register, Register];
        const rd = t.random() < 0.5 ? ra : rb === 1 || t.random() < 0.5 ? pick(t, pool.filter((r) => r !== rb)) : ra;
        for (const returned of ['dst', 'bystander'] as const) {
          const code = binaryFunction(t, ra, rb, returned === 'dst' ? rd : rb, (m) => op(m, rd, ra, n));
          if (returned === 'bystander' && rd === rb) continue;
          withCode(code, 2, (fn) => {
            for (const a of [randomI64(t), MIN, -1n, 1n]) {
              const b = randomI64(t);
              const shown = `${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${n}) with ${regName(t.arch, ra)} = ${a}`;
              if (returned === 'dst') same(fn(a, b), i64(ref(a, BigInt(n))), shown, code, t.arch);
              else same(fn(a, b), b, `${shown}: ${regName(t.arch, rb)}, neither dst nor a, must keep its value`, code, t.arch);
            }
          });
        }
      }
      let refused = false;
      try {
        op(newMasm(t), pool[0]!, pool[1]!, 64);
      } catch {
        refused = true;
      }
      assert.ok(refused, `${name} by 64 must be refused while compiling (counts are 0..63), not emitted`);
    }
  },
  {
    points: 2,
    hints: [
      'x86-64 shifts by a register only by cl. The masm must put b in rcx without losing a value the caller keeps in rcx: save it (push) and restore it, unless rcx is dst.',
      'Copy a somewhere safe (the internal r11) BEFORE moving b into rcx, in case a is rcx; shift the copy; move it to dst last.',
      'AArch64: lslv, asrv, lsrv take the count from a register and use its low 6 bits.',
      'shlImmediate, sarImmediate and shrImmediate are given: they use chapter 03\'s shift-by-immediate encoders (shl/sar/shr r64, imm8; lsl/asr/lsr as ubfm/sbfm).',
    ],
  },
);

check(
  'div and rem truncate toward zero, with any registers (rax, rdx, rcx included on x86-64)',
  (t) => {
    const operands = (): [bigint, bigint] => {
      const a = t.random() < 0.2 ? pick(t, [MIN, MAX, -7n, 7n, 0n, -1n]) : randomI64(t);
      let b = t.random() < 0.3 ? pick(t, [1n, -1n, 2n, -2n, 3n, -7n, MAX, MIN]) : randomI64(t);
      if (b === 0n || (a === MIN && b === -1n)) b = 3n;
      return [a, b];
    };
    const probe = newMasm(t);
    for (const { name: pattern, ra, rb, rd } of registerChoices(t, probe)) {
      if (ra === rb) continue; // a / a is 1, a % a is 0: tested below
      for (const [name, ref] of [['div', (a: bigint, b: bigint) => a / b], ['rem', (a: bigint, b: bigint) => a % b]] as const) {
        const code = binaryFunction(t, ra, rb, rd, (m) => (name === 'div' ? m.div(rd, ra, rb) : m.rem(rd, ra, rb)));
        withCode(code, 2, (fn) => {
          for (let k = 0; k < 4; k++) {
            const [a, b] = operands();
            same(fn(a, b), ref(a, b), `${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) [${pattern}]: ${a} ${name === 'div' ? '/' : '%'} ${b}`, code, t.arch);
          }
        });
      }
    }
    // divFast and remFast: both sides of their run-time test (operands in 0 .. 2^32 - 1, or not), and b == -1 (INT64_MIN / -1 wraps).
    const narrow = (): bigint => (t.random() < 0.3 ? pick(t, [0n, 1n, 2n, 7n, 0x7fffffffn, 0x80000000n, 0xffffffffn]) : BigInt(Math.floor(t.random() * 2 ** 32)));
    const fastOperands = (): [bigint, bigint] => {
      const r = t.random();
      const [a, b] = r < 0.5 ? [narrow(), narrow()] : r < 0.6 ? [pick(t, [MIN, MAX, 5n, -5n, 0n]), -1n] : r < 0.75 ? [pick(t, [0x100000000n, -1n, -0xffffffffn, MAX, MIN]), narrow()] : r < 0.9 ? [narrow(), pick(t, [0x100000000n, -1n, -7n, MAX, MIN])] : operands();
      return b === 0n ? [a, 3n] : [a, b];
    };
    for (const { name: pattern, ra, rb, rd } of registerChoices(t, probe)) {
      if (ra === rb) continue;
      for (const [name, ref] of [['divFast', (a: bigint, b: bigint) => a / b], ['remFast', (a: bigint, b: bigint) => a % b]] as const) {
        const code = binaryFunction(t, ra, rb, rd, (m) => (name === 'divFast' ? m.divFast(rd, ra, rb) : m.remFast(rd, ra, rb)));
        withCode(code, 2, (fn) => {
          for (let k = 0; k < 8; k++) {
            const [a, b] = fastOperands();
            same(fn(a, b), i64(ref(a, b)), `${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) [${pattern}]: ${a} ${name === 'divFast' ? '/' : '%'} ${b}`, code, t.arch);
          }
        });
      }
    }
    const pool = freeRegisters(probe);
    const r = pick(t, pool);
    const same1 = binaryFunction(t, r, r, r, (m) => m.div(r, r, r));
    withCode(same1, 2, (fn) => same(fn(0n, -12345n), 1n, `div(${regName(t.arch, r)}, same, same)`, same1, t.arch));
    const same0 = binaryFunction(t, r, r, r, (m) => m.rem(r, r, r));
    withCode(same0, 2, (fn) => same(fn(0n, -12345n), 0n, `rem(${regName(t.arch, r)}, same, same)`, same0, t.arch));
  },
  {
    points: 2,
    hints: [
      'x86-64: idiv divides rdx:rax by its operand; quotient in rax, remainder in rdx. Sign-extend rax into rdx with cqo first, or the dividend is wrong (and idiv may fault).',
      'Copy b to a temporary before writing rax and rdx (b may be one of them); save rax/rdx if they are not dst, and restore them after.',
      'AArch64: sdiv for the quotient; the remainder is a - (a / b) * b: sdiv tmp, a, b; msub dst, tmp, b, a.',
      'divFast and remFast are given, and lean on the rest: on x86-64 chapter 03\'s divl_r, and the same saves and moves as div.',
    ],
  },
);

check(
  'div, rem, shifts and the other methods change only dst (rax, rdx and rcx survive on x86-64)',
  (t) => {
    const probe = newMasm(t);
    const live = [...new Set([probe.regs.result, ...probe.regs.args, ...probe.regs.scratch])];
    const ops: [string, (m: MacroAssembler, d: Register, a: Register, b: Register) => void, Ref][] = [
      ['div', (m, d, a, b) => m.div(d, a, b), (a, b) => a / b],
      ['rem', (m, d, a, b) => m.rem(d, a, b), (a, b) => a % b],
      ['shl', (m, d, a, b) => m.shl(d, a, b), (a, b) => a << (b & 63n)],
      ['sar', (m, d, a, b) => m.sar(d, a, b), (a, b) => a >> (b & 63n)],
      ['shr', (m, d, a, b) => m.shr(d, a, b), (a, b) => u64(a) >> (b & 63n)],
      ['sub', (m, d, a, b) => m.sub(d, a, b), (a, b) => a - b],
      ['mul', (m, d, a, b) => m.mul(d, a, b), (a, b) => a * b],
      ['setIf', (m, d, a, b) => m.setIf('lt', d, a, b), (a, b) => (a < b ? 1n : 0n)],
    ];
    for (const [name, op, ref] of ops) {
      for (let trial = 0; trial < 4; trial++) {
        const ra = pick(t, live);
        let rb = pick(t, live);
        while (rb === ra) rb = pick(t, live);
        const rd = pick(t, [ra, rb, pick(t, live)]);
        const a = BigInt(Math.floor(t.random() * 2 ** 40)) - 2n ** 39n;
        const b = BigInt(1 + Math.floor(t.random() * 60)) * (t.random() < 0.5 ? -1n : 1n);
        // Every register holds a marker, a and b are in ra and rb; after op, all but rd keep theirs.
        const before = new Map<Register, bigint>(live.map((r, i) => [r, BigInt(0x1111 * (i + 1))]));
        before.set(ra, a);
        before.set(rb, b);
        const after = new Map(before);
        after.set(rd, i64(ref(a, b)));
        const code = build(t, (m) => {
          m.prologue(live.length);
          for (const [r, v] of before) m.moveImmediate(r, v);
          op(m, rd, ra, rb);
          live.forEach((r, i) => m.storeSlot(r, i));
          const [sum, v] = [m.regs.result, m.regs.scratch[0]!];
          m.moveImmediate(sum, 0n);
          live.forEach((_, i) => {
            m.loadSlot(v, i);
            for (let k = 0; k <= i; k++) m.add(sum, sum, v);
          });
          m.epilogue();
        });
        let expected = 0n;
        live.forEach((r, i) => (expected += after.get(r)! * BigInt(i + 1)));
        withCode(code, 0, (fn) => {
          const got = fn();
          // A sum over every register, weighted by its place: what the registers held afterwards.
          reportOutcome(`${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) with a = ${a}, b = ${b}: the registers afterwards`, { output: [String(got)] });
          if (got !== i64(expected)) {
            const shown = live.map((r) => `${regName(t.arch, r)} = ${after.get(r)}`).join(', ');
            throw new Mismatch(`${name}(${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) with a = ${a}, b = ${b} changed a register other than dst. Expected afterwards: ${shown}`, code, t.arch);
          }
        });
      }
    }
  },
  {
    points: 2,
    hints: [
      'Code above the masm keeps values in any argument, result or scratch register; a method may change only its dst (and the masm\'s own internal registers, which are in none of the lists).',
      'x86-64: idiv writes rax AND rdx; a shift by a register needs rcx. Save the ones that are not dst (push) and restore them (pop) afterwards.',
      'Restore in the reverse order of saving, and do not restore the register that holds the result.',
    ],
  },
);



function comparisonPairs(t: CheckContext): [bigint, bigint][] {
  const pairs: [bigint, bigint][] = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
  for (let k = 0; k < 10; k++) {
    const a = randomI64(t);
    pairs.push([a, t.random() < 0.5 ? randomI64(t) : i64(a + BigInt(Math.floor(t.random() * 3) - 1))]);
  }
  return pairs;
}

check(
  'setIf gives 1 or 0 for every condition on edge values',
  (t) => {
    const pool = freeRegisters(newMasm(t));
    const pairs = comparisonPairs(t);
    for (const cond of CONDITIONS) {
      const ra = pick(t, pool);
      let rb = pick(t, pool);
      while (rb === ra) rb = pick(t, pool);
      const rd = pick(t, [ra, rb, pick(t, pool)]);
      const code = binaryFunction(t, ra, rb, rd, (m) => m.setIf(cond, rd, ra, rb));
      withCode(code, 2, (fn) => {
        for (const [a, b] of pairs) {
          same(fn(a, b), holds(cond, a, b) ? 1n : 0n, `setIf('${cond}', ${regName(t.arch, rd)}, ${regName(t.arch, ra)}, ${regName(t.arch, rb)}) with a = ${a}, b = ${b}`, code, t.arch);
        }
      });
    }
  },
  {
    points: 2,
    hints: [
      'cmp a, b sets the flags of a - b; then the condition code picks them. lt/le/gt/ge are the signed codes (x86-64 l/le/g/ge; AArch64 lt/le/gt/ge), ult/ule/ugt/uge the unsigned ones (b/be/a/ae; lo/ls/hi/hs).',
      'x86-64: setcc writes only the low byte; movzx dst, dst8 clears the rest. Do not zero dst BEFORE the cmp: dst may be a or b.',
      'AArch64: cmp a, b; cset dst, cond.',
    ],
  },
);

check(
  'branchIf and branchIfImmediate branch exactly when the condition holds',
  (t) => {
    const pairs = comparisonPairs(t);
    for (const cond of CONDITIONS) {
      const code = build(t, (m) => {
        const yes = m.newLabel('yes');
        m.branchIf(cond, m.regs.args[0]!, m.regs.args[1]!, yes);
        m.moveImmediate(m.regs.result, 0n);
        m.ret();
        m.bind(yes);
        m.moveImmediate(m.regs.result, 1n);
        m.ret();
      });
      withCode(code, 2, (fn) => {
        for (const [a, b] of pairs) same(fn(a, b), holds(cond, a, b) ? 1n : 0n, `branchIf('${cond}') with a = ${a}, b = ${b}`, code, t.arch);
      });
    }
    const immediates = [0, 1, -1, 100, 4095, 4096, -4095, -4096, 0x12345, -0x12345, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 50)];
    for (const value of immediates) {
      const cond = pick(t, CONDITIONS);
      const conds = value === 0 ? ['eq', 'ne', cond] as Condition[] : [cond];
      for (const c of conds) {
        const code = build(t, (m) => {
          const yes = m.newLabel('yes');
          m.branchIfImmediate(c, m.regs.args[0]!, value, yes);
          m.moveImmediate(m.regs.result, 0n);
          m.ret();
          m.bind(yes);
          m.moveImmediate(m.regs.result, 1n);
          m.ret();
        });
        withCode(code, 1, (fn) => {
          const v = BigInt(value);
          for (const a of [v, v - 1n, v + 1n, 0n, -1n, MIN, MAX, randomI64(t)]) {
            same(fn(a), holds(c, a, v) ? 1n : 0n, `branchIfImmediate('${c}', a, ${value}) with a = ${a}`, code, t.arch);
          }
        });
      }
    }
  },
  {
    points: 2,
    hints: [
      'branchIf is cmp a, b then a conditional branch (jcc / b.cond) to the label, with the same condition mapping as setIf.',
      'branchIfImmediate: an immediate that fits the compare (imm32 on x86-64; 0..4095 or, with cmn, -4095..-1 on AArch64), else the masm\'s internal register.',
      'AArch64 can compare with zero and branch in one instruction: cbz / cbnz for eq / ne.',
    ],
  },
);

/** The fewest AArch64 instructions that build `value`: movz+movk, movn+movk, or one orr with a bitmask. */
function arm64Minimum(value: bigint): number {
  const v = u64(value);
  const chunks = [0, 1, 2, 3].map((k) => (v >> BigInt(16 * k)) & 0xffffn);
  const movz = Math.max(1, chunks.filter((c) => c !== 0n).length);
  const movn = Math.max(1, chunks.filter((c) => c !== 0xffffn).length);
  return Math.min(movz, movn, isBitmask(v) ? 1 : 4);
}

/** A rotated run of ones repeated in 2..64-bit elements (an AArch64 logical immediate). */
function isBitmask(v: bigint): boolean {
  if (v === 0n || v === (1n << 64n) - 1n) return false;
  for (let size = 2; size <= 64; size *= 2) {
    const mask = (1n << BigInt(size)) - 1n;
    const element = v & mask;
    let repeats = true;
    for (let at = size; at < 64; at += size) if (((v >> BigInt(at)) & mask) !== element) repeats = false;
    if (!repeats) continue;
    for (let r = 0; r < size; r++) {
      const rotated = ((element >> BigInt(r)) | (element << BigInt(size - r))) & mask;
      if (((rotated + 1n) & rotated) === 0n) return true; // rotated is a run of ones from bit 0
    }
    return false;
  }
  return false;
}

check(
  'moveImmediate loads edge constants with the shortest sequence',
  (t) => {
    const values = [0n, 1n, -1n, MIN, MAX, 0xffffn, 0x10000n, 0xffffffffn, 0x80000000n, -0x80000000n, 0x7fffffffn, -0x80000001n,
      0x1_0000_0000n, 0xffff_0000_0000n, -0x10000n, 0x5555_5555_5555_5555n, 0x00ff_00ff_00ff_00ffn, i64(0xffff_0000_ffff_0000n), 0x1234_5678_9abc_def0n, i64(0xfedc_ffff_ffff_ffffn)];
    for (let k = 0; k < 10; k++) values.push(randomI64(t));
    const pool = freeRegisters(newMasm(t));
    for (const value of values) {
      const target = pick(t, pool);
      let bytes = 0;
      const code = build(t, (m) => {
        const before = m.size;
        m.moveImmediate(target, value);
        bytes = m.size - before;
        m.move(m.regs.result, target);
        m.ret();
      });
      withCode(code, 0, (fn) => same(fn(), value, `moveImmediate(${regName(t.arch, target)}, ${value})`, code, t.arch));
      const shortest = t.arch === 'x64'
        ? (value === 0n ? 3 : value >= -(1n << 31n) && value < 1n << 31n ? 7 : 10)
        : 4 * arm64Minimum(value);
      if (bytes > shortest) {
        throw new Mismatch(`moveImmediate(${value}) took ${bytes} bytes; ${shortest} are enough (${t.arch === 'x64' ? 'xor for 0, a sign-extended imm32, else movabs' : 'movz/movn + movk for the chunks that differ, or one orr with a bitmask immediate'})`, code, t.arch);
      }
    }
  },
  {
    hints: [
      'x86-64: 0 is xor r, r (3 bytes); a value in -2^31..2^31-1 is mov r, imm32 sign-extended (7 bytes); anything else movabs (10 bytes).',
      'AArch64: count the 16-bit chunks that are not 0 (movz + movk each) and those that are not 0xffff (movn + movk each); take the smaller.',
      'AArch64: values like 0x5555555555555555 are one orr dst, xzr, #imm (encodeBitmask from chapter 03).',
    ],
  },
);

check(
  'prologue and epilogue: slots keep their values and sp stays 16-byte aligned',
  (t) => {
    const available = newMasm(t).regs.calleeSaved.length;
    for (const [slots, savedCount] of [[0, 0], [1, 0], [2, 1], [3, 2], [5, 0], [8, 3], [40, 5], [2, 10]] as const) {
      const code = build(t, (m) => {
        const saved = m.regs.calleeSaved.slice(0, savedCount);
        const { args, result, scratch } = m.regs;
        m.prologue(slots, saved);
        // slot i = a + i * b, for every slot; then read them all back: result = sum of slots.
        const v = scratch[0]!;
        const step = args[2]!;
        m.move(v, args[0]!);
        m.move(step, args[1]!);
        for (let i = 0; i < slots; i++) {
          m.storeSlot(v, i);
          m.add(v, v, step);
        }
        // the saved registers are free to use now
        for (const r of saved) m.moveImmediate(r, 7n);
        m.moveImmediate(result, 0n);
        for (let i = slots - 1; i >= 0; i--) {
          m.loadSlot(v, i);
          m.add(result, result, v);
        }
        for (const r of saved) m.add(result, result, r);
        // result * 16 + (sp & 15)
        m.move(v, SP[t.arch]);
        m.moveImmediate(step, 15n);
        m.and(v, v, step);
        m.moveImmediate(step, 4n);
        m.shl(result, result, step);
        m.add(result, result, v);
        m.epilogue();
      });
      withCode(code, 2, (fn) => {
        const [a, b] = [BigInt(Math.floor(t.random() * 1000)), BigInt(Math.floor(t.random() * 1000))];
        const got = fn(a, b);
        const n = BigInt(slots);
        const sum = n * a + b * ((n * (n - 1n)) / 2n) + 7n * BigInt(Math.min(savedCount, available));
        if ((got & 15n) !== 0n) throw new Mismatch(`prologue(${slots}, ${savedCount} saved): sp & 15 is ${got & 15n} after the prologue; it must be 0`, code, t.arch);
        same(got >> 4n, sum, `prologue(${slots}, ${savedCount} saved): the sum of the slots`, code, t.arch);
      });
    }
  },
  {
    points: 2,
    hints: [
      'The frame: the caller\'s frame pointer (and, on AArch64, the return address) at [fp], the saved registers below it, then the slots. Address slots from the frame pointer, which does not move.',
      'x86-64: the call left rsp 8 bytes past a multiple of 16; push rbp fixes that, so round the saved registers plus slots up to an even number of 8-byte words.',
      'AArch64: stp x29, x30, [sp, #-16]!; mov x29, sp; sub sp, sp, #(frame rounded up to 16). Offsets below -256 need more than ldur/stur.',
    ],
  },
);

check(
  'callee-saved registers survive a call to code that clobbers them',
  (t) => {
    const code = build(t, (m) => {
      const { args, result, calleeSaved } = m.regs;
      const clobber = m.newLabel('clobber');
      // main(a): put a + i in every callee-saved register, call clobber, sum them with weights.
      m.prologue(1, calleeSaved);
      calleeSaved.forEach((r, i) => m.addImmediate(r, args[0]!, i + 1));
      m.call(clobber);
      m.moveImmediate(result, 0n);
      calleeSaved.forEach((r, i) => {
        for (let k = 0; k <= i; k++) m.add(result, result, r); // weight i + 1
      });
      m.epilogue();
      // clobber(): saves them all, writes junk, restores them.
      m.bind(clobber);
      m.prologue(3, calleeSaved);
      calleeSaved.forEach((r, i) => m.moveImmediate(r, BigInt(-1000 - i)));
      m.moveImmediate(result, 0n);
      m.epilogue();
    });
    withCode(code, 1, (fn) => {
      for (const a of [0n, 5n, BigInt(Math.floor(t.random() * 1e6))]) {
        let expected = 0n;
        const count = t.arch === 'x64' ? 5 : 10;
        for (let i = 0; i < count; i++) expected += (a + BigInt(i + 1)) * BigInt(i + 1);
        same(fn(a), i64(expected), `callee-saved registers after a call (a = ${a})`, code, t.arch);
      }
    });
  },
  {
    points: 2,
    hints: [
      'prologue(slots, saved) stores each register of `saved` in the frame; epilogue() loads every one of them back before returning.',
      'Keep what the prologue saved in the masm, so that epilogue (possibly called more than once per function) restores exactly those, from the same offsets.',
      'x86-64: rbx, r12–r15; AArch64: x19–x28. The frame pointer (rbp; x29, x30) is saved separately by the first instructions of the prologue.',
    ],
  },
);

check(
  'call(label) to a function bound later, and recursion (factorial, fibonacci)',
  (t) => {
    // main(a, b) = f(a, b) + 1, where f is bound after main.
    const code = build(t, (m) => {
      const { args, result } = m.regs;
      const f = m.newLabel('f');
      m.prologue(0);
      m.call(f);
      m.addImmediate(result, result, 1);
      m.epilogue();
      m.bind(f);
      m.sub(result, args[0]!, args[1]!);
      m.ret();
    });
    withCode(code, 2, (fn) => {
      for (let k = 0; k < 4; k++) {
        const [a, b] = [randomI64(t), randomI64(t)];
        same(fn(a, b), i64(a - b + 1n), `main(${a}, ${b}) = f(a, b) + 1 with f bound later`, code, t.arch);
      }
    });

    // fact(n) = n <= 1 ? 1 : n * fact(n - 1);  fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2)
    let fibAt = 0;
    const rec = build(t, (m) => {
      const { args, result } = m.regs;
      const n = args[0]!;
      const tmp = m.regs.scratch[0]!; // result and n are the same register on AArch64
      const fact = m.newLabel('fact');
      const fib = m.newLabel('fib');
      m.bind(fact);
      m.prologue(1);
      const base = m.newLabel('base');
      m.branchIfImmediate('le', n, 1, base);
      m.storeSlot(n, 0);
      m.addImmediate(n, n, -1);
      m.call(fact);
      m.loadSlot(tmp, 0);
      m.mul(result, result, tmp);
      m.epilogue();
      m.bind(base);
      m.moveImmediate(result, 1n);
      m.epilogue();

      fibAt = m.size;
      m.bind(fib);
      m.prologue(2);
      const small = m.newLabel('small');
      m.branchIfImmediate('lt', n, 2, small);
      m.storeSlot(n, 0);
      m.addImmediate(n, n, -1);
      m.call(fib);
      m.storeSlot(result, 1);
      m.loadSlot(n, 0);
      m.addImmediate(n, n, -2);
      m.call(fib);
      m.loadSlot(tmp, 1);
      m.add(result, result, tmp);
      m.epilogue();
      m.bind(small);
      m.move(result, n);
      m.epilogue();
      assert.is(fib.offset, fibAt, 'a label bound at the current position has offset == size');
    });
    const region = ch01.CodeRegion.allocate(rec.length);
    try {
      region.write(0, rec);
      region.seal();
      const fact = region.function(0, 1);
      const fib = region.function(fibAt, 1);
      let f = 1n;
      for (let n = 0n; n <= 20n; n++) {
        if (n > 1n) f *= n;
        same(fact(n), f, `fact(${n})`, rec, t.arch);
      }
      const fibs = [0n, 1n];
      for (let n = 2; n <= 20; n++) fibs.push(fibs[n - 1]! + fibs[n - 2]!);
      for (const n of [0, 1, 2, 3, 10, 15, 20]) same(fib(BigInt(n)), fibs[n]!, `fib(${n})`, rec, t.arch);
    } finally {
      region.dispose();
    }
  },
  {
    points: 2,
    hints: [
      'call(label) is a branch that records a fixup like any other (call rel32; bl imm26), so a function can call one bound later, or itself.',
      'Values needed after a call live in stack slots: the callee may change every argument and scratch register.',
      'AArch64: bl overwrites x30, which is why the prologue saves x29 and x30 together.',
    ],
  },
);

check(
  'callAddress and callRegister call generated code at an absolute address',
  (t) => {
    const target = build(t, (m) => {
      const { args, result } = m.regs;
      m.mul(result, args[0]!, args[1]!);
      m.addImmediate(result, result, 1);
      m.ret();
    });
    const region = ch01.CodeRegion.allocate(target.length);
    try {
      region.write(0, target);
      region.seal();
      for (const how of ['callAddress', 'callRegister'] as const) {
        const code = build(t, (m) => {
          m.prologue(0);
          if (how === 'callAddress') {
            m.callAddress(region.address);
          } else {
            const r = m.regs.scratch[0]!;
            m.moveImmediate(r, region.address);
            m.callRegister(r);
          }
          m.neg(m.regs.result, m.regs.result);
          m.epilogue();
        });
        withCode(code, 2, (fn) => {
          for (let k = 0; k < 4; k++) {
            const [a, b] = [randomI64(t), randomI64(t)];
            same(fn(a, b), i64(-(a * b + 1n)), `${how}(0x${region.address.toString(16)}) to g(a, b) = a * b + 1, then neg: a = ${a}, b = ${b}`, code, t.arch, `${how}(g) to g(a, b) = a * b + 1, then neg: a = ${a}, b = ${b}`);
          }
        });
      }
    } finally {
      region.dispose();
    }
  },
  {
    hints: [
      'A call to an address anywhere in the 64-bit space cannot be a rel32/imm26: load the address into a register and call through it.',
      'x86-64: mov r11, imm64; call r11. AArch64: movz/movk x16, then blr x16.',
      'The arguments must still be in their registers when the call happens: use the masm\'s internal register for the address, not an argument register.',
    ],
  },
);

check(
  'load and store through a base register with positive and negative offsets',
  (t) => {
    const code = build(t, (m) => {
      const { args, result, scratch } = m.regs;
      const [p, v] = [scratch[0]!, args[2]!];
      m.prologue(8);
      m.move(p, SP[t.arch]); // p points at the 64 bytes of slots
      m.store(args[0]!, p, 0);
      m.store(args[1]!, p, 56);
      m.addImmediate(p, p, 32);
      m.store(args[0]!, p, -24); // [sp + 8]
      m.store(args[1]!, p, 16); // [sp + 48]
      m.load(result, SP[t.arch], 8);
      m.load(v, p, -32); // [sp + 0]
      m.add(result, result, v);
      m.load(v, p, 24); // [sp + 56]
      m.sub(result, result, v);
      m.load(v, SP[t.arch], 48);
      m.sub(result, result, v);
      m.epilogue();
    });
    withCode(code, 2, (fn) => {
      for (let k = 0; k < 4; k++) {
        const [a, b] = [randomI64(t), randomI64(t)];
        same(fn(a, b), i64(2n * a - 2n * b), `stores and loads at sp+0..56: a = ${a}, b = ${b}`, code, t.arch);
      }
    });
  },
  {
    hints: [
      'load(dst, base, offset) is a 64-bit load from base + offset; store(src, base, offset) the store.',
      'x86-64: mov with a memory operand (chapter 03 picks disp8/disp32). AArch64: ldr/str with a scaled unsigned offset, ldur/stur for -256..255, else the address in x16.',
      'AArch64: register 31 as a base is sp; chapter 03 numbers it 32.',
    ],
  },
);
