/**
 * Chapter 04: what the optimizing tier, stack maps and unwinding need from the
 * MacroAssembler, executed: condition negation, fp and sp, pinned registers, one Frame per
 * function, indirect jumps and label addresses, return offsets of calls, indexed memory,
 * three-operand address arithmetic, multiply-add and the high half of a multiply, zero and
 * bit tests, conditional select, branches beyond the short forms' reach, patchable calls.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, thrownBy, type CheckContext } from '#harness/check.ts';
import { disassemble } from '#native/disasm.ts';
import type { MacroAssembler, Register } from '#ch04/macro-assembler.ts';
import {
  build, CONDITIONS, EDGES, freeRegisters, holds, i64, Mismatch, newMasm, pick, randomI64, regName, same, u64, withCode,
} from './support.ts';

const ch01 = await learnerCode(import('#ch01/code-region.ts'));
const roles = await learnerCode(import('#ch04/macro-assembler.ts'));


/** Edge pairs plus random ones. */
function pairs(t: CheckContext): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const a of EDGES) for (const b of [EDGES[0]!, -1n, 0n, 1n, EDGES[6]!]) out.push([a, b]);
  for (let k = 0; k < 6; k++) {
    const a = randomI64(t);
    out.push([a, a], [a, randomI64(t)]);
  }
  return out;
}

check(
  'negate gives the opposite of every condition (executed through setIf)',
  (t) => {
    for (const cond of CONDITIONS) {
      const opposite = roles.negate(cond);
      assert.ok(CONDITIONS.includes(opposite), `negate('${cond}') returned ${JSON.stringify(opposite)}, which is not a Condition`);
      const m0 = newMasm(t);
      const [a, b] = m0.regs.args;
      const code = build(t, (m) => m.setIf(opposite, m.regs.result, a!, b!) === undefined ? m.ret() : m.ret());
      withCode(code, 2, (fn) => {
        for (const [x, y] of pairs(t)) {
          same(fn(x, y), holds(cond, x, y) ? 0n : 1n, `setIf(negate('${cond}') = '${opposite}') with a = ${x}, b = ${y}: the opposite of ${cond}`, code, t.arch);
        }
      });
    }
  },
  {
    hints: [
      'The opposite of a condition holds exactly when the condition does not, for every pair of operands: not lt is ge (a >= b), not gt.',
      'Swapping the operands (lt ↔ gt) is a different thing from negating. The pairs are eq/ne, lt/ge, le/gt, ult/uge, ule/ugt, the same pairs the hardware encodes as cc ^ 1.',
      'A Record<Condition, Condition> table is the whole function.',
    ],
  },
);

check(
  'the register roles name fp and sp, which move can read and set, and pinned registers are callee-saved but never scratch or allocatable',
  (t) => {
    const m0 = newMasm(t);
    const { fp, sp, pinned, allocatable, scratch, calleeSaved, args, result } = m0.regs;
    const expectFp = t.arch === 'x64' ? 5 : 29;
    const expectSp = t.arch === 'x64' ? 4 : 32;
    assert.is(fp, expectFp, `regs.fp must be ${regName(t.arch, expectFp)} (${expectFp}), got ${fp}`);
    assert.is(sp, expectSp, `regs.sp must be ${regName(t.arch, expectSp)} (${expectSp}, as chapter 03 numbers it), got ${sp}`);
    assert.ok(Array.isArray(pinned) && pinned.length > 0, 'regs.pinned must list the registers reserved for the VM (at least one)');
    for (const r of pinned) {
      assert.ok(calleeSaved.includes(r), `pinned register ${regName(t.arch, r)} must be callee-saved, so that code entered from TypeScript preserves it`);
      assert.not.ok(scratch.includes(r) || allocatable.includes(r) || args.includes(r) || r === result,
        `pinned register ${regName(t.arch, r)} must not be in scratch, allocatable, args or result`);
    }
    for (const r of [fp, sp, ...pinned]) assert.not.ok(allocatable.includes(r), `allocatable must not contain ${regName(t.arch, r)}`);
    for (const r of [...args, result, ...scratch, ...calleeSaved.filter((c) => !pinned.includes(c))]) {
      assert.ok(allocatable.includes(r), `allocatable must contain ${regName(t.arch, r)} (args, result, scratch and calleeSaved minus pinned)`);
    }
    // fp - sp after a prologue is the frame size; a hand-made frame through move to and from sp.
    for (const slots of [0, 1, 3, 4]) {
      let size = -1;
      const code = build(t, (m) => {
        const s = m.regs.scratch[0]!;
        const frame = m.prologue(slots);
        size = frame.size;
        m.move(m.regs.result, m.regs.fp);
        m.move(s, m.regs.sp);
        m.sub(m.regs.result, m.regs.result, s);
        m.epilogue(frame);
      });
      withCode(code, 0, (fn) => same(fn(), BigInt(size), `fp - sp (read with move) after prologue(${slots}): frame.size`, code, t.arch, null));
    }
    const code = build(t, (m) => {
      const [a] = m.regs.args;
      const keep = m.regs.scratch[0]!;
      m.move(keep, m.regs.sp); // keep the stack pointer
      m.addImmediate(m.regs.sp, m.regs.sp, -32);
      m.store(a!, m.regs.sp, 8);
      m.move(m.regs.result, m.regs.sp);
      m.load(m.regs.result, m.regs.result, 8);
      m.move(m.regs.sp, keep); // set it back
      m.ret();
    });
    withCode(code, 1, (fn) => same(fn(12345n), 12345n, 'move(keep, sp); addImmediate(sp, sp, -32); store through sp; move(sp, keep)', code, t.arch));
  },
  {
    hints: [
      'RegisterRoles gains fp (rbp; x29), sp (rsp; sp, which chapter 03 numbers 32 on AArch64), pinned and allocatable.',
      'Pinned registers are reserved for the VM: callee-saved in the ABI (an entry stub saves them) but in no list an allocator or a template takes registers from.',
      'move(dst, sp) on AArch64 is add dst, sp, #0 (chapter 03\'s mov_reg knows); on x86-64 an ordinary mov.',
    ],
  },
);

check(
  'prologue returns a Frame per function: a second function emitted inside the first keeps its own slots and saved registers',
  (t) => {
    const m0 = newMasm(t);
    const cs = m0.regs.calleeSaved.filter((r) => !m0.regs.pinned.includes(r));
    for (const [slots, saved] of [[1, 0], [2, 1], [3, 0], [3, 2], [5, 3], [0, 1]] as const) {
      let frameSize = -1;
      let offsets: number[] = [];
      const code = build(t, (m) => {
        const [a, b] = m.regs.args;
        const inner = m.newLabel('inner');
        const frame = m.prologue(slots + 1, cs.slice(0, saved));
        frameSize = frame.size;
        offsets = Array.from({ length: slots + 1 }, (_, i) => frame.slotOffset(i));
        for (const r of cs.slice(0, saved)) m.moveImmediate(r, 777n);
        for (let i = 0; i <= slots; i++) m.storeSlot(i === slots ? b! : a!, i, frame);
        m.call(inner);
        let sum = m.regs.result;
        m.moveImmediate(sum, 0n);
        const tmp = m.regs.scratch[0]!;
        for (let i = 0; i <= slots; i++) {
          m.loadSlot(tmp, i, frame);
          m.add(sum, sum, tmp);
        }
        m.epilogue(frame);
        // The inner function, emitted while the outer one's frame is still in use.
        m.bind(inner);
        const other = m.prologue(4, cs.slice(0, 3));
        m.moveImmediate(tmp, -1n);
        for (let i = 0; i < 4; i++) m.storeSlot(tmp, i, other);
        for (const r of cs.slice(0, 3)) m.moveImmediate(r, -5n);
        m.epilogue(other);
        sum = 0;
      });
      const expectedSize = Math.ceil((saved + slots + 1) / 2) * 16;
      assert.is(frameSize, expectedSize, `prologue(${slots + 1}, ${saved} saved).size: 8 bytes a word, rounded up to 16; expected ${expectedSize}, got ${frameSize}`);
      const sorted = [...new Set(offsets)];
      assert.is(sorted.length, offsets.length, `slotOffset gives every slot its own place: ${offsets.join(', ')}`);
      for (const o of offsets) {
        assert.ok(o <= -8 * (saved + 1) && o >= -frameSize, `slotOffset ${o} of prologue(${slots + 1}, ${saved} saved) must lie below the saved registers and inside the frame (-${frameSize}..${-8 * (saved + 1)})`);
      }
      withCode(code, 2, (fn) => {
        for (const [a, b] of [[3n, 4n], [randomI64(t), randomI64(t)]] as const) {
          same(fn(a, b), i64(BigInt(slots) * a + b), `slots of the outer frame (prologue(${slots + 1}, ${saved} saved)) after calling an inner function emitted in the middle`, code, t.arch);
        }
      });
    }
  },
  {
    hints: [
      'Keep what a prologue decided (slot count, saved registers, size) in a Frame object it returns, not in the masm: the next prologue must not change the previous function\'s layout.',
      'epilogue(frame), loadSlot(dst, i, frame) and storeSlot(src, i, frame) use the frame they are given; without one, the latest prologue\'s.',
      'size is 8 × (saved + slots) rounded up to 16: an odd number of words needs one more word of padding.',
    ],
  },
);

check(
  'jumpRegister and loadLabelAddress reach labels bound before and after',
  (t) => {
    const code = build(t, (m) => {
      const [a] = m.regs.args;
      const s = m.regs.scratch[0]!;
      const back = m.newLabel('back');
      const forward = m.newLabel('forward');
      const start = m.newLabel('start');
      m.jump(start);
      m.bind(back); // 1000 + a
      m.addImmediate(m.regs.result, a!, 1000);
      m.ret();
      m.bind(start);
      m.branchIfImmediate('lt', a!, 0, back);
      m.loadLabelAddress(s, forward);
      m.jumpRegister(s);
      m.trap();
      m.trap();
      m.bind(forward); // 2000 + a, or through `back` again via its address
      m.branchIfImmediate('eq', a!, 7, back);
      m.addImmediate(m.regs.result, a!, 2000);
      m.ret();
    });
    withCode(code, 1, (fn) => {
      for (const a of [0n, 5n, 7n, -3n]) same(fn(a), a < 0n || a === 7n ? a + 1000n : a + 2000n, `jumpRegister to loadLabelAddress(forward) with a = ${a}`, code, t.arch);
    });
    // The address itself: label offset + region address, forward and backward.
    let offsets: number[] = [];
    const addresses = build(t, (m) => {
      const [which] = m.regs.args;
      const early = m.newLabel('early');
      const late = m.newLabel('late');
      const useLate = m.newLabel('useLate');
      m.bind(early);
      m.branchIfImmediate('ne', which!, 0, useLate);
      m.loadLabelAddress(m.regs.result, early);
      m.ret();
      m.bind(useLate);
      m.loadLabelAddress(m.regs.result, late);
      m.ret();
      m.trap();
      m.bind(late);
      m.trap();
      offsets = [early.offset!, late.offset!];
    });
    withCode(addresses, 1, (fn, address) => {
      same(fn(0n), i64(address + BigInt(offsets[0]!)), 'loadLabelAddress of a label bound before (offset 0)', addresses, t.arch, null);
      same(fn(1n), i64(address + BigInt(offsets[1]!)), `loadLabelAddress of a label bound after (offset ${offsets[1]})`, addresses, t.arch, null);
    });
  },
  {
    hints: [
      'loadLabelAddress is a branch whose "target" is an address: x86-64 lea r, [rip + rel32] (rel32 from the end of the 7-byte lea, a fixup like jmp\'s); AArch64 adr (imm21, counted from the adr itself, in bytes).',
      'A forward label needs a fixup exactly like a forward branch: the assembler\'s branchTo with the rel32 or imm21 field.',
      'jumpRegister is jmp r (FF /4) or br xn.',
    ],
  },
);

check(
  'call, callAddress and callRegister return the offset just after the call, the callee\'s return address',
  (t) => {
    // The callee returns its own return address: [rsp] on x86-64, x30 on AArch64.
    const returned: number[] = [];
    let calleeOffset = 0;
    const region = ch01.CodeRegion.allocate(4096);
    try {
      const code = build(t, (m) => {
        const callee = m.newLabel('callee');
        const s = m.regs.calleeSaved[0]!;
        const frame = m.prologue(1, [s]);
        m.moveImmediate(s, 0n);
        const after = m.call(callee);
        returned.push(after);
        reportOutcome('call(label) returns the offset after the call', { output: [String(after === m.size)] });
        assert.is(after, m.size, `call(label) returned ${after}, but the code after the call starts at ${m.size}`);
        m.add(s, s, m.regs.result);
        m.moveImmediate(m.regs.scratch[0]!, region.address + 1024n);
        returned.push(m.callRegister(m.regs.scratch[0]!));
        m.add(s, s, m.regs.result);
        returned.push(m.callAddress(region.address + 1024n));
        m.add(s, s, m.regs.result);
        m.move(m.regs.result, s);
        m.epilogue(frame);
        m.bind(callee);
        calleeOffset = m.size;
        if (t.arch === 'x64') m.load(m.regs.result, m.regs.sp, 0);
        else m.move(m.regs.result, 30);
        m.ret();
      });
      const tail = code.slice(calleeOffset);
      region.write(0, code);
      region.write(1024, tail);
      region.seal();
      const sum = returned.reduce((x, r) => x + region.address + BigInt(r), 0n);
      const got = region.function(0, 0)();
      // The offsets themselves depend on the encodings chosen: whether they agree with the return addresses is reported.
      reportOutcome('the return addresses the callees saw are the offsets the calls returned', { output: [String(got === i64(sum))] });
      if (got !== i64(sum)) {
        throw new Mismatch(`the return addresses seen by the callees add up to ${got}, but the returned offsets ${returned.join(', ')} (+ the code's address each) add up to ${i64(sum)}`, code, t.arch);
      }
    } finally {
      region.dispose();
    }
  },
  {
    hints: [
      'Stack maps and unwind tables are keyed by return address, so each call reports the offset just after its call instruction: return this.size after emitting it.',
      'callAddress and callRegister may emit more than the call (the address into a register first): report the offset after the call, not after the whole sequence start.',
      'On AArch64 the return address is in x30 after bl/blr; on x86-64 it is at [rsp] when the callee starts.',
    ],
  },
);

check(
  'loadIndexed and storeIndexed address base + index * 8 + offset (r12 and r13 as index on x86-64, sp as base)',
  (t) => {
    const m0 = newMasm(t);
    const indexes = t.arch === 'x64' ? [12, 13, 0, 1, 2, 8] : [1, 2, 10, 19, 20];
    for (const index of indexes) {
      for (const offset of [0, 8, -16, 24, 300, 40000]) {
        for (const useSp of [false, true]) {
          const code = build(t, (m) => {
            const [value, i] = m.regs.args;
            const base = useSp ? m.regs.sp : m.regs.scratch[0]!;
            const saved = m.regs.calleeSaved.filter((r) => r === index);
            const frame = m.prologue(64, saved);
            m.move(index, i!);
            if (!useSp) m.move(base, m.regs.sp);
            const biased = offset >= 0 ? 0 : 64; // keep base + offset inside the frame
            if (biased) m.addImmediate(base === m.regs.sp ? m.regs.scratch[0]! : base, base, biased);
            const b = useSp && biased ? m.regs.scratch[0]! : base;
            if (offset === 40000) {
              m.addImmediate(b === m.regs.sp ? m.regs.scratch[0]! : b, b, -40000 + 16);
            }
            const b2 = offset === 40000 && b === m.regs.sp ? m.regs.scratch[0]! : b;
            m.storeIndexed(value!, b2, index, offset);
            m.loadIndexed(m.regs.result, b2, index, offset);
            m.addImmediate(m.regs.result, m.regs.result, 1);
            // and read it again as a slot: the address is rsp/sp + (biased) + index*8 + offset (+ adjust)
            m.epilogue(frame);
          });
          withCode(code, 2, (fn) => {
            const v = randomI64(t);
            const i = BigInt(Math.floor(t.random() * 4));
            same(fn(v, i), i64(v + 1n), `storeIndexed/loadIndexed(${regName(t.arch, useSp ? m0.regs.sp : m0.regs.scratch[0]!)}, index ${regName(t.arch, index)} = ${i}, offset ${offset})`, code, t.arch);
          });
        }
      }
    }
    // The stack pointer is never an index (x86-64: SIB index 100 means none; AArch64: Rm 31 is xzr).
    for (const method of ['loadIndexed', 'storeIndexed'] as const) {
      const error = thrownBy(() => newMasm(t)[method](m0.regs.result, m0.regs.args[0]!, m0.regs.sp, 0));
      assert.ok(error instanceof RangeError, `${method}(…, index = ${regName(t.arch, m0.regs.sp)}) must throw a RangeError (the stack pointer cannot be an index register); got ${error === undefined ? 'no error' : String(error)}`);
    }
    // The exact address: store through the index, read back with plain loads.
    const code = build(t, (m) => {
      const [value, i] = m.regs.args;
      const index = t.arch === 'x64' ? 13 : 19;
      const frame = m.prologue(17, [index]);
      const base = m.regs.scratch[0]!;
      m.move(base, m.regs.sp);
      m.move(index, i!);
      for (let k = 0; k < 17; k++) m.storeSlot(m.regs.args[2]!, k, frame);
      m.storeIndexed(value!, base, index, 16);
      m.moveImmediate(m.regs.result, 0n);
      for (let k = 0; k < 16; k++) {
        m.load(m.regs.args[3]!, base, 8 * k);
        m.addImmediate(m.regs.args[3]!, m.regs.args[3]!, k + 1);
        m.mul(m.regs.args[3]!, m.regs.args[3]!, m.regs.args[3]!);
        m.add(m.regs.result, m.regs.result, m.regs.args[3]!);
      }
      m.epilogue(frame);
    });
    withCode(code, 3, (fn) => {
      for (const i of [0n, 1n, 5n, 13n]) {
        // slot at sp + 16 + 8i holds v = 100, the others 0: sum of (x_k + k + 1)^2.
        let expected = 0n;
        for (let k = 0n; k < 16n; k++) expected += (k === i + 2n ? 100n + k + 1n : k + 1n) ** 2n;
        same(fn(100n, i, 0n), expected, `storeIndexed(100, sp copy, index ${i}, 16) lands at [sp + 16 + 8 * ${i}] and nowhere else`, code, t.arch);
      }
    });
  },
  {
    hints: [
      'x86-64: mov r, [base + index*8 + disp] is one instruction; r12 and r13 are fine as index (REX.X), only rsp is not; as a base r12 needs a SIB byte and r13 a disp8 of 0, which chapter 03\'s addressBytes handles.',
      'AArch64: ldr/str (register offset) with lsl #3 has no displacement: put base + offset in the masm\'s internal register first when offset is not 0 (add or sub immediate, or a constant and an add).',
      'The index of ldr [xn, xm, lsl #3] may not be sp (31 is xzr in Rm); the base may.',
    ],
  },
);

type Quad = (m: MacroAssembler, d: Register, a: Register, b: Register, c: Register) => void;

check(
  'addScaled, multiplyAdd, multiplySub and mulHigh match BigInt with any aliasing',
  (t) => {
    const m0 = newMasm(t);
    const pool = freeRegisters(m0);
    const extra = t.arch === 'x64' ? [0, 1, 2] : [];
    const registers = [...new Set([...extra, ...pool])];
    const ops: [string, Quad, (a: bigint, b: bigint, c: bigint) => bigint][] = [
      ['multiplyAdd', (m, d, a, b, c) => m.multiplyAdd(d, a, b, c), (a, b, c) => c + a * b],
      ['multiplySub', (m, d, a, b, c) => m.multiplySub(d, a, b, c), (a, b, c) => c - a * b],
      ['mulHigh', (m, d, a, b) => m.mulHigh(d, a, b), (a, b) => (a * b) >> 64n],
    ];
    for (const scale of [1, 2, 4, 8] as const) {
      for (const offset of [0, 8, -24, 100000, 2 ** 33]) {
        ops.push([`addScaled(·, ·, ·, ${scale}, ${offset})`, (m, d, a, b) => m.addScaled(d, a, b, scale, offset), (a, b) => a + b * BigInt(scale) + BigInt(offset)]);
      }
    }
    for (const [name, op, ref] of ops) {
      const [x, y, z, w] = [...registers].sort(() => t.random() - 0.5) as [Register, Register, Register, Register];
      // Every aliasing of dst with the operands, and operands that share a register.
      const patterns: [Register, Register, Register, Register][] = [
        [w, x, y, z], [x, x, y, z], [y, x, y, z], [z, x, y, z], [w, x, x, z], [x, x, x, z], [z, x, z, z], [x, x, x, x],
      ];
      // x86-64: rax and rdx as dst and as operands (the one-operand imul writes both).
      if (t.arch === 'x64') patterns.push([0, 1, 2, 8], [2, 0, 1, 8], [0, 2, 0, 1], [2, 2, 8, 0], [1, 0, 2, 2], [8, 2, 2, 0]);
      for (const [rd, ra, rb, rc] of patterns) {
        const code = build(t, (m) => {
          const [p0, p1, p2] = [m.regs.args[3]!, m.regs.args[4]!, m.regs.args[5]!];
          if (t.arch === 'x64') { m.move(p2, m.regs.args[2]!); m.move(p0, m.regs.args[0]!); m.move(p1, m.regs.args[1]!); }
          else { m.move(p0, m.regs.args[0]!); m.move(p1, m.regs.args[1]!); m.move(p2, m.regs.args[2]!); }
          m.move(ra, p0);
          m.move(rb, p1);
          m.move(rc, p2);
          op(m, rd, ra, rb, rc);
          m.move(m.regs.result, rd);
          m.ret();
        });
        withCode(code, 3, (fn) => {
          for (let n = 0; n < 4; n++) {
            const [a, b, c] = [randomI64(t), randomI64(t), randomI64(t)];
            // Registers that are the same hold the value written last (c, then b, then a).
            const va = ra === rc ? c : ra === rb ? b : a;
            const vb = rb === rc ? c : b;
            same(fn(a, b, c), i64(ref(va, vb, c)), `${name} dst ${regName(t.arch, rd)}, a ${regName(t.arch, ra)} = ${va}, b ${regName(t.arch, rb)} = ${vb}, c ${regName(t.arch, rc)} = ${c}`, code, t.arch);
          }
        });
      }
    }
  },
  {
    points: 2,
    hints: [
      'addScaled is one lea dst, [a + b*scale + disp] on x86-64 (disp32; larger offsets separately) and add dst, a, b, lsl #log2(scale) on AArch64, then the offset.',
      'multiplyAdd/multiplySub: madd and msub on AArch64; on x86-64 compute a * b in the internal r11 first, then dst = c ± r11, so that dst may be a, b or c.',
      'mulHigh: smulh on AArch64; on x86-64 the one-operand imul multiplies rax and writes rdx:rax, so borrow rax and rdx the way div does.',
    ],
  },
);

check(
  'branchIfZero, branchIfNonZero, branchIfBitSet and branchIfBitClear branch exactly when they should (bits 0, 30, 31, 32, 63)',
  (t) => {
    const values = [0n, 1n, -1n, 1n << 30n, 1n << 31n, 1n << 32n, EDGES[0]!, (1n << 31n) - 1n, randomI64(t), randomI64(t)];
    const kinds = [
      ['branchIfZero', -1, (v: bigint) => v === 0n],
      ['branchIfNonZero', -1, (v: bigint) => v !== 0n],
      ...[0, 30, 31, 32, 63, Math.floor(t.random() * 64)].flatMap((bit) => [
        ['branchIfBitSet', bit, (v: bigint) => ((u64(v) >> BigInt(bit)) & 1n) === 1n],
        ['branchIfBitClear', bit, (v: bigint) => ((u64(v) >> BigInt(bit)) & 1n) === 0n],
      ]),
    ] as [string, number, (v: bigint) => boolean][];
    for (const [name, bit, taken] of kinds) {
      const code = build(t, (m) => {
        const [a] = m.regs.args;
        const yes = m.newLabel('yes');
        const r = pick(t, freeRegisters(m));
        m.move(r, a!);
        if (name === 'branchIfZero') m.branchIfZero(r, yes);
        else if (name === 'branchIfNonZero') m.branchIfNonZero(r, yes);
        else if (name === 'branchIfBitSet') m.branchIfBitSet(r, bit, yes);
        else m.branchIfBitClear(r, bit, yes);
        m.moveImmediate(m.regs.result, 1n);
        m.ret();
        m.bind(yes);
        m.moveImmediate(m.regs.result, 2n);
        m.ret();
      });
      withCode(code, 1, (fn) => {
        for (const v of values) same(fn(v), taken(v) ? 2n : 1n, `${name}(${bit < 0 ? '' : `bit ${bit}, `}a = ${v} = 0x${u64(v).toString(16)}): 2 if taken, 1 if not`, code, t.arch);
      });
    }
  },
  {
    hints: [
      'AArch64 has them as instructions: cbz, cbnz, tbnz, tbz (through the assembler, so that far labels are handled).',
      'x86-64: test a, a then je/jne for zero; for a bit, test a, imm32, but the imm32 is sign-extended: 1 << 31 becomes 0xffffffff80000000 and tests 33 bits. Bits 31..63 need the mask in a register (r11).',
      'Bit 63 is the sign bit: 1n << 63n as an unsigned 64-bit mask.',
    ],
  },
);

check(
  'select picks ifTrue or ifFalse for every condition, with dst aliasing any operand',
  (t) => {
    const registers = freeRegisters(newMasm(t));
    for (const cond of CONDITIONS) {
      for (const alias of ['none', 'a', 'b', 'ifTrue', 'ifFalse'] as const) {
        const [ra, rb, rt, rf, rx] = [...registers].sort(() => t.random() - 0.5);
        const rd = alias === 'none' ? rx! : alias === 'a' ? ra! : alias === 'b' ? rb! : alias === 'ifTrue' ? rt! : rf!;
        const code = build(t, (m) => {
          const [a, b] = m.regs.args;
          const [p0, p1] = [m.regs.args[4]!, m.regs.args[5]!];
          m.move(p0, a!);
          m.move(p1, b!);
          m.move(ra!, p0);
          m.move(rb!, p1);
          m.moveImmediate(rt!, 111n);
          m.moveImmediate(rf!, 222n);
          m.select(cond, rd, ra!, rb!, rt!, rf!);
          m.move(m.regs.result, rd);
          m.ret();
        });
        withCode(code, 2, (fn) => {
          for (const [a, b] of pairs(t).slice(0, 16)) {
            same(fn(a, b), holds(cond, a, b) ? 111n : 222n, `select('${cond}', dst = ${alias === 'none' ? 'its own register' : alias}, a = ${a}, b = ${b}, 111, 222)`, code, t.arch);
          }
        });
      }
    }
  },
  {
    hints: [
      'AArch64: cmp a, b; csel dst, ifTrue, ifFalse, cond: one instruction, any aliasing.',
      'x86-64: cmp a, b; mov dst, ifFalse (mov does not touch the flags); cmovcc dst, ifTrue. If dst is ifTrue, that mov would destroy it: cmov the OTHER way (the negated condition, ifFalse) instead.',
      'Compare before moving anything into dst: dst may be a or b.',
    ],
  },
);

check(
  'conditional branches reach labels just past the short form\'s reach, forward and backward, and keep the short form within it',
  (t) => {
    if (t.arch === 'x64') {
      // Forward and backward over more than 127 bytes, checked by running: the counts must be right.
      for (const bytes of [120, 126, 127, 128, 129, 130, 300]) {
        const code = build(t, (m) => {
          const [a] = m.regs.args;
          const top = m.newLabel('top');
          const skip = m.newLabel('skip');
          m.moveImmediate(m.regs.result, 0n);
          m.bind(top);
          m.branchIfZero(a!, skip);
          m.addImmediate(m.regs.result, m.regs.result, 3);
          const fill = m.size;
          while (m.size - fill < bytes) m.moveImmediate(m.regs.scratch[0]!, 0n); // xor r10, r10: 3 bytes
          m.bind(skip);
          m.addImmediate(a!, a!, -1);
          m.branchIfImmediate('ge', a!, 0, top);
          m.ret();
        });
        withCode(code, 1, (fn) => {
          for (const n of [0n, 1n, 5n]) same(fn(n), 3n * n, `a loop of ${n} iterations whose body is about ${bytes} bytes (branches both ways past rel8's reach)`, code, t.arch);
        });
      }
      // The short form where it reaches: a backward branch to 128 bytes before its end is 2 bytes.
      const m = newMasm(t);
      const [a] = m.regs.args;
      const top = m.newLabel('top');
      m.bind(top);
      for (let k = 0; k < 42; k++) m.moveImmediate(m.regs.scratch[0]!, 0n); // 126 bytes of xor r10, r10
      const at = m.size;
      m.jump(top);
      assert.is(m.size - at, 2, `jump to a label 128 bytes back (the limit of rel8: -128 from the end of a 2-byte jmp) must be jmp rel8 (2 bytes), got ${m.size - at} bytes`);
      const at2 = m.size;
      m.jump(top);
      assert.is(m.size - at2, 5, `jump to a label 130 bytes back (past rel8) must be jmp rel32 (5 bytes), got ${m.size - at2} bytes`);
      m.branchIfZero(a!, top);
      assert.ok(m.listing().at(-1)?.text.startsWith('je') === true && m.listing().at(-1)!.bytes.length === 6, 'branchIfZero to a label 140 bytes back must be je rel32 (6 bytes)');
      return;
    }
    // AArch64: tbz (±32 KiB) and b.cond/cbz (±1 MiB), each just past its reach, both ways, executed.
    for (const [kind, reach] of [['tbz', 32768], ['tbnz', 32768], ['cbz', 1048576], ['b.cond', 1048576]] as const) {
      for (const [direction, extra] of [['forward', true], ['backward', false], ['backward', true]] as const) {
        const m = newMasm(t);
        const [a] = m.regs.args;
        const far = m.newLabel('far');
        const start = m.newLabel('start');
        const r = m.regs.scratch[0]!;
        const pad = m.regs.scratch[1]!;
        const branch = (): void => {
          if (kind === 'tbz') m.branchIfBitClear(r, 0, far);
          else if (kind === 'tbnz') m.branchIfBitSet(r, 0, far);
          else if (kind === 'cbz') m.branchIfZero(r, far);
          else m.branchIf('eq', r, m.regs.args[1]!, far);
        };
        const taken = (v: bigint): boolean => kind === 'tbz' ? (v & 1n) === 0n : kind === 'tbnz' ? (v & 1n) === 1n : v === 0n;
        const nops = reach / 4 + 2;
        m.moveImmediate(m.regs.args[1]!, 0n);
        const decoy = m.newLabel('decoy');
        if (direction === 'forward') {
          m.move(r, a!);
          if (kind === 'tbz' || kind === 'tbnz') {
            // A short branch that is never taken, waiting for its label, and a commented
            // instruction after every trap: an island may land anywhere in here, but it must
            // never take a comment away from the instruction it was given for.
            m.branchIfBitSet(m.regs.args[1]!, 0, decoy);
            const over = m.newLabel('over');
            m.jump(over);
            for (let k = 0; k < 8200; k++) {
              m.comment(`pad ${k}`);
              m.moveImmediate(pad, 0n);
            }
            m.bind(over);
          }
          m.comment('the branch');
          branch();
          m.moveImmediate(m.regs.result, 1n);
          m.ret();
          for (let k = 0; k < nops; k++) m.moveImmediate(pad, 0n); // never runs: decodable padding
          m.bind(far);
          m.moveImmediate(m.regs.result, 2n);
          m.ret();
          m.bind(decoy);
          m.trap();
        } else {
          // far, then movz and ret, then pads, then move and the branch: the branch is
          // 4 * (3 + pads) bytes after far. The short form reaches -reach exactly.
          m.jump(start);
          m.bind(far);
          m.moveImmediate(m.regs.result, 2n);
          m.ret();
          const lead = kind === 'b.cond' ? 1 : 0; // the cmp before b.cond
          for (let k = 0; k < reach / 4 - 3 - lead + (extra ? 1 : 0); k++) m.moveImmediate(pad, 0n);
          m.bind(start);
          m.move(r, a!);
          const at = m.size;
          branch();
          const length = m.size - at;
          if (!extra) assert.is(length, 4 * (1 + lead), `${kind} backward to a label exactly ${reach} bytes away (the limit of its field) must be one instruction, got ${length} bytes`);
          m.moveImmediate(m.regs.result, 1n);
          m.ret();
        }
        const code = m.finish();
        const where = `${kind} ${direction} to a label ${direction === 'backward' ? (extra ? reach + 4 : reach) : reach + 8} bytes away`;
        withCode(code, 1, (fn) => {
          for (const v of [0n, 1n, 2n, -1n]) {
            const got = fn(v);
            if (got !== (taken(v) ? 2n : 1n)) throw new Mismatch(`${where} with ${v}: expected ${taken(v) ? 2 : 1} (${taken(v) ? 'taken' : 'not taken'}), got ${got}`, code.slice(0, 64), t.arch);
          }
        });
        if (direction === 'forward' && (kind === 'tbz' || kind === 'tbnz')) {
          const listing = m.listing().slice(0, 8300);
          const commented = listing.filter((l) => l.comment?.includes('the branch'));
          const text = commented.map((l) => l.text).join(' | ');
          assert.ok(commented.length === 1 && /^(tb|cb|b\.)/.test(commented[0]!.text),
            `${where}: the comment 'the branch' must sit on the conditional branch itself, found on: ${text || 'nothing'}`);
          const stolen = listing.find((l) => l.comment?.startsWith('pad') && !/^mov/.test(l.text));
          assert.ok(stolen === undefined, `the comment '${stolen?.comment}' was given for a mov but sits on '${stolen?.text}' at offset ${stolen?.offset}: code the assembler inserts (an island) must not take the comment of the next instruction`);
        }
      }
    }
    // Within reach, a branch stays one instruction: a tbz over 100 words.
    const m = newMasm(t);
    const near = m.newLabel('near');
    m.branchIfBitSet(m.regs.args[0]!, 5, near);
    for (let k = 0; k < 100; k++) m.trap();
    m.bind(near);
    m.ret();
    const first = disassemble(m.finish().slice(0, 4), 'arm64')[0]?.text ?? '';
    assert.ok(first.startsWith('tbnz'), `a bit test 404 bytes from its label must be a single tbnz, got: ${first}`);
  },
  {
    timeoutMs: 30000,
    hints: [
      'The assembler, not its caller, makes a branch reach: x86-64 picks rel8 for a bound label within -128..127 (counted from the end of the 2-byte form) and rel32 otherwise, and rel32 for every forward label.',
      'AArch64 backward: past the reach of b.cond/cbz (±1 MiB) or tbz (±32 KiB), emit the opposite test over an unconditional b: b.ne label becomes b.eq +8; b label.',
      'AArch64 forward: emit the short branch and remember how far it reaches; before the code grows past that, emit an island (b over it; a b label per pending branch) and point the short branch at its b. Keep a pending comment for the next real instruction.',
    ],
  },
);

check(
  'a patchable call has one length for every address, and patchCall redirects it',
  (t) => {
    const lengths = new Set<number>();
    for (const address of [0n, 1n, 0x7fffffffn, 0xffff_0000_0000n, (1n << 64n) - 1n, 0x0001_0002_0003_0004n]) {
      const m = newMasm(t);
      const site = m.callPatchable(address);
      lengths.add(site.length);
      assert.is(site.returnOffset, m.size, `callPatchable: returnOffset ${site.returnOffset} must be the offset after the call (${m.size})`);
      assert.is(site.at + site.length, site.returnOffset, 'callPatchable: at + length must be the return offset (the call is the last instruction)');
    }
    assert.is(lengths.size, 1, `callPatchable must emit the same number of bytes for every address; got lengths ${[...lengths].join(', ')}`);
    if (t.arch === 'arm64') {
      // A short branch waiting for its label forces a veneer island near 32 KiB; wherever it
      // falls, it must not split the sequence (swept in steps of 16 bytes over 512 bytes).
      for (let pads = 8060; pads < 8188; pads += 4) {
        const m = newMasm(t);
        const later = m.newLabel('later');
        m.branchIfBitSet(m.regs.args[0]!, 3, later);
        for (let k = 0; k < pads; k++) m.moveImmediate(m.regs.scratch[0]!, 0n);
        const site = m.callPatchable(0x1234_5678_9abc_def0n);
        m.bind(later);
        m.ret();
        const words = disassemble(m.finish().subarray(site.at, site.at + 20), 'arm64').map((l) => l.mnemonic);
        assert.equal(words, ['mov', 'movk', 'movk', 'movk', 'blr'],
          `callPatchable at offset ${site.at} (a tbz waiting since offset 0): the 20 bytes must be movz/movk/movk/movk/blr, found ${words.join(', ')}: no island inside a patchable call`);
      }
    }
    const region = ch01.CodeRegion.allocate(4096);
    try {
      let site: { at: number; length: number; returnOffset: number } | undefined;
      let g = 0;
      let h = 0;
      const masm = newMasm(t);
      const code = build(t, (m) => {
        const frame = m.prologue(0);
        site = m.callPatchable(0n);
        m.addImmediate(m.regs.result, m.regs.result, 1);
        m.epilogue(frame);
        g = m.size;
        m.moveImmediate(m.regs.result, 10n);
        m.ret();
        h = m.size;
        m.moveImmediate(m.regs.result, 20n);
        m.ret();
      });
      masm.patchCall(code, site!, region.address + BigInt(g));
      const toG = code.slice();
      masm.patchCall(code, site!, region.address + BigInt(h));
      region.write(0, toG);
      region.write(2048, code);
      region.seal();
      same(region.function(0, 0)(), 11n, 'a patchable call patched to g (returns 10), then + 1', toG, t.arch);
      // The second copy sits 2048 bytes further on, so its target is h - 2048 from its own start: the call reaches h of the FIRST copy.
      same(region.function(2048, 0)(), 21n, 'the same call patched again, to h (returns 20), then + 1', code, t.arch);
    } finally {
      region.dispose();
    }
  },
  {
    timeoutMs: 30000,
    hints: [
      'A call whose target changes later must not depend on the target for its length: movabs r11, imm64 (always the 10-byte form); call r11 on x86-64; movz and three movk (every chunk, even zero ones), blr x16 on AArch64.',
      'patchCall rewrites only the constant: the imm64 at +2 of the movabs; the imm16 field (bits 20..5) of each of the four mov words.',
      'On AArch64 no veneer island may land inside the sequence.',
    ],
  },
);
