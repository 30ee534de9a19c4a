/**
 * Chapter 04: the MacroAssembler for x86-64 (System V AMD64 ABI).
 *
 * Registers by role:
 *   args         rdi, rsi, rdx, rcx, r8, r9      result  rax
 *   scratch      r10                             calleeSaved  rbx, r12, r13, r14, r15
 *   pinned       r14, r15 (reserved for the VM; callee-saved, but never allocated)
 *   internal     r11 (the masm's own temporary: immediates, division, shifts, callAddress)
 *   frame        rbp (frame pointer), rsp (stack pointer)
 *
 * x86-64 has fixed registers for some operations: idiv divides rdx:rax and leaves the
 * quotient in rax and the remainder in rdx; a shift by a register takes its count in cl.
 * This masm hides that: div, rem, shl, sar and shr save whichever of rax, rdx and rcx they
 * borrow (push/pop) and put them back, so every method changes only its dst, r11 and the
 * flags, and any of dst, a and b may be any register, rax, rdx and rcx included.
 *
 * The methods are listed in the same order as in MacroAssemblerArm64 (masm-arm64.ts).
 */
import * as x64 from '#ch03/x64.ts';
import type { Arch } from '#native/arch.ts';
import { FrameLayout, X64Assembler } from './assembler.ts';
import type { Condition, Frame, Label, ListingLine, MacroAssembler, PatchableCall, Register, RegisterRoles } from './macro-assembler.ts';

const { Reg, mem } = x64;
type Reg = x64.Reg;

/** The masm's own temporary: in none of the role lists, so code above never holds a value in it. */
const TEMP = Reg.r11;

// ISA-neutral conditions as x86-64 condition codes (after `cmp a, b`).
const CONDITIONS: Record<Condition, x64.Cond> = {
  eq: x64.Cond.e, ne: x64.Cond.ne,
  lt: x64.Cond.l, le: x64.Cond.le, gt: x64.Cond.g, ge: x64.Cond.ge,
  ult: x64.Cond.b, ule: x64.Cond.be, ugt: x64.Cond.a, uge: x64.Cond.ae,
};

/** The condition code for `cond`, as the hardware numbers it. */
export function conditionCode(cond: Condition): x64.Cond {
  return CONDITIONS[cond];
}

const ROLES: RegisterRoles = {
  args: [Reg.rdi, Reg.rsi, Reg.rdx, Reg.rcx, Reg.r8, Reg.r9],
  result: Reg.rax,
  scratch: [Reg.r10],
  calleeSaved: [Reg.rbx, Reg.r12, Reg.r13, Reg.r14, Reg.r15],
  pinned: [Reg.r15, Reg.r14],
  allocatable: [Reg.rax, Reg.rdi, Reg.rsi, Reg.rdx, Reg.rcx, Reg.r8, Reg.r9, Reg.r10, Reg.rbx, Reg.r12, Reg.r13],
  fp: Reg.rbp,
  sp: Reg.rsp,
};

function fitsInt32(value: number | bigint): boolean {
  const v = BigInt(value);
  return v >= -(1n << 31n) && v < 1n << 31n;
}

export class MacroAssemblerX64 implements MacroAssembler {
  readonly arch: Arch = 'x64';
  readonly regs: RegisterRoles = ROLES;
  /** The assembler underneath, for what the interface does not cover (rel8 jumps, raw encodings). */
  readonly asm = new X64Assembler();
  /** The frame of the latest prologue: the default for epilogue, loadSlot and storeSlot. */
  #frame: Frame | undefined = undefined;

  get size(): number {
    return this.asm.size;
  }

  #emit(bytes: readonly number[]): void {
    this.asm.emit(bytes);
  }

  // ── labels ─────────────────────────────────────────────────────────────────────
  newLabel(name?: string): Label {
    return this.asm.newLabel(name);
  }

  bind(label: Label): void {
    this.asm.bind(label);
  }

  // ── frames ─────────────────────────────────────────────────────────────────────
  /**
   *   [rbp + 8]            return address (pushed by call)
   *   [rbp]                the caller's rbp
   *   [rbp - 8 (i + 1)]    saved[i]
   *   [rbp - 8 (k + i + 1)] slot i        (k = saved.length)
   * On entry rsp is 8 past a multiple of 16 (the call pushed the return address); push rbp
   * makes it a multiple of 16 again, so the k + slots words below must be rounded up to even.
   */
  prologue(slots: number, saved: readonly Register[] = []): Frame {
    const frame = new FrameLayout(slots, saved, ROLES.calleeSaved);
    this.#frame = frame;
    this.#emit(x64.push_r(Reg.rbp));
    this.#emit(x64.movq_rr(Reg.rbp, Reg.rsp));
    if (frame.size > 0) this.#emit(x64.subq_ri(Reg.rsp, frame.size));
    frame.saved.forEach((r, i) => this.#emit(x64.movq_mr(mem(Reg.rbp, frame.savedOffset(i)), reg(r))));
    return frame;
  }

  epilogue(frame: Frame | undefined = this.#frame): void {
    const f = framePresent(frame, 'epilogue');
    f.saved.forEach((r, i) => this.#emit(x64.movq_rm(reg(r), mem(Reg.rbp, f.savedOffset(i)))));
    this.#emit(x64.movq_rr(Reg.rsp, Reg.rbp));
    this.#emit(x64.pop_r(Reg.rbp));
    this.#emit(x64.ret());
  }

  // ── moves ──────────────────────────────────────────────────────────────────────
  move(dst: Register, src: Register): void {
    if (dst !== src) this.#emit(x64.movq_rr(reg(dst), reg(src)));
  }

  /** xor for 0 (3 bytes), a sign-extended imm32 (7 bytes), else movabs (10 bytes). */
  moveImmediate(dst: Register, value: bigint): void {
    const v = BigInt.asIntN(64, value);
    if (v === 0n) this.#emit(x64.xorq_rr(reg(dst), reg(dst)));
    else this.#emit(x64.movq_ri(reg(dst), v));
  }

  // ── arithmetic ─────────────────────────────────────────────────────────────────
  // @book:start x64-add
  add(dst: Register, a: Register, b: Register): void {
    if (dst === b) {
      this.#emit(x64.addq_rr(reg(dst), reg(a))); // dst = b + a
    } else {
      this.move(dst, a);
      this.#emit(x64.addq_rr(reg(dst), reg(b)));
    }
  }
  // @book:end x64-add

  addImmediate(dst: Register, a: Register, value: number): void {
    if (!fitsInt32(value)) {
      this.moveImmediate(TEMP, BigInt(value));
      this.add(dst, a, TEMP);
    } else if (dst === a) {
      if (value !== 0) this.#emit(x64.addq_ri(reg(dst), value));
    } else {
      this.#emit(x64.leaq_rm(reg(dst), mem(reg(a), value))); // dst = a + value, in one instruction
    }
  }

  sub(dst: Register, a: Register, b: Register): void {
    if (dst === b && dst !== a) {
      this.#emit(x64.negq_r(reg(dst))); // dst = -b + a
      this.#emit(x64.addq_rr(reg(dst), reg(a)));
    } else {
      this.move(dst, a);
      this.#emit(x64.subq_rr(reg(dst), reg(b)));
    }
  }

  mul(dst: Register, a: Register, b: Register): void {
    if (dst === b) {
      this.#emit(x64.imulq_rr(reg(dst), reg(a)));
    } else {
      this.move(dst, a);
      this.#emit(x64.imulq_rr(reg(dst), reg(b)));
    }
  }

  div(dst: Register, a: Register, b: Register): void {
    this.#divide(dst, a, b, Reg.rax);
  }

  rem(dst: Register, a: Register, b: Register): void {
    this.#divide(dst, a, b, Reg.rdx);
  }

  /**
   * idiv divides the 128-bit rdx:rax by its operand: quotient in rax, remainder in rdx.
   * So: save rax and rdx (unless dst is one of them), copy b to r11 before anything
   * overwrites it, a to rax, sign-extend rax into rdx (cqo), divide, take the result,
   * and restore what was saved.
   */
  #divide(dst: Register, a: Register, b: Register, result: Reg): void {
    const saved = [Reg.rdx, Reg.rax].filter((r) => r !== dst);
    for (const r of saved) this.#emit(x64.push_r(r));
    this.#emit(x64.movq_rr(TEMP, reg(b)));
    this.move(Reg.rax, a);
    this.#emit(x64.cqo());
    this.#emit(x64.idivq_r(TEMP));
    this.move(dst, result);
    for (const r of saved.reverse()) this.#emit(x64.pop_r(r));
  }

  divFast(dst: Register, a: Register, b: Register): void {
    this.#divideFast(dst, a, b, Reg.rax);
  }

  remFast(dst: Register, a: Register, b: Register): void {
    this.#divideFast(dst, a, b, Reg.rdx);
  }

  /**
   * #divide with a narrow path: with a in rax and b in r11, rdx (saved, so free) tests
   * whether any of the upper 32 bits of a or b is set. If none is, both are unsigned 32-bit
   * numbers, where truncating signed division is unsigned division: clear edx and
   * `div r11d` (the results are zero-extended into rax and rdx). Otherwise b == -1 gives
   * -a and 0 without idiv (which faults on INT64_MIN / -1), and any other b cqo; idiv.
   */
  #divideFast(dst: Register, a: Register, b: Register, result: Reg): void {
    const wide = this.newLabel('divide.wide');
    const done = this.newLabel('divide.done');
    const saved = [Reg.rdx, Reg.rax].filter((r) => r !== dst);
    for (const r of saved) this.#emit(x64.push_r(r));
    this.#emit(x64.movq_rr(TEMP, reg(b)));
    this.move(Reg.rax, a);
    this.#emit(x64.movq_rr(Reg.rdx, Reg.rax));
    this.#emit(x64.orq_rr(Reg.rdx, TEMP));
    this.#emit(x64.shrq_ri(Reg.rdx, 32));
    this.asm.jcc(x64.Cond.ne, wide);
    this.#emit(x64.xorq_rr(Reg.rdx, Reg.rdx));
    this.#emit(x64.divl_r(TEMP));
    this.asm.jmp(done);
    this.bind(wide);
    const divide = this.newLabel('divide.signed');
    this.#emit(x64.cmpq_ri(TEMP, -1));
    this.asm.jcc(x64.Cond.ne, divide);
    this.#emit(x64.negq_r(Reg.rax));
    this.#emit(x64.xorq_rr(Reg.rdx, Reg.rdx));
    this.asm.jmp(done);
    this.bind(divide);
    this.#emit(x64.cqo());
    this.#emit(x64.idivq_r(TEMP));
    this.bind(done);
    this.move(dst, result);
    for (const r of saved.reverse()) this.#emit(x64.pop_r(r));
  }

  and(dst: Register, a: Register, b: Register): void {
    this.#commutative(x64.andq_rr, dst, a, b);
  }

  or(dst: Register, a: Register, b: Register): void {
    this.#commutative(x64.orq_rr, dst, a, b);
  }

  xor(dst: Register, a: Register, b: Register): void {
    this.#commutative(x64.xorq_rr, dst, a, b);
  }

  shl(dst: Register, a: Register, b: Register): void {
    this.#shift(x64.shlq_rcl, dst, a, b);
  }

  sar(dst: Register, a: Register, b: Register): void {
    this.#shift(x64.sarq_rcl, dst, a, b);
  }

  shr(dst: Register, a: Register, b: Register): void {
    this.#shift(x64.shrq_rcl, dst, a, b);
  }

  shlImmediate(dst: Register, a: Register, count: number): void {
    this.#shiftImmediate(x64.shlq_ri, dst, a, count);
  }

  sarImmediate(dst: Register, a: Register, count: number): void {
    this.#shiftImmediate(x64.sarq_ri, dst, a, count);
  }

  shrImmediate(dst: Register, a: Register, count: number): void {
    this.#shiftImmediate(x64.shrq_ri, dst, a, count);
  }

  neg(dst: Register, a: Register): void {
    this.move(dst, a);
    this.#emit(x64.negq_r(reg(dst)));
  }

  not(dst: Register, a: Register): void {
    this.move(dst, a);
    this.#emit(x64.notq_r(reg(dst)));
  }

  addScaled(dst: Register, a: Register, b: Register, scale: 1 | 2 | 4 | 8, offset = 0): void {
    if (reg(b) === Reg.rsp) throw new RangeError('addScaled: b cannot be rsp (rsp is never an index register)');
    if (fitsInt32(offset)) {
      this.#emit(x64.leaq_rm(reg(dst), mem(reg(a), reg(b), scale, offset)));
    } else {
      this.#emit(x64.leaq_rm(TEMP, mem(reg(a), reg(b), scale, 0)));
      this.moveImmediate(reg(dst), BigInt(offset));
      this.#emit(x64.addq_rr(reg(dst), TEMP));
    }
  }

  /** r11 = a * b first (a, b and c may be dst), then dst = c ± r11. */
  multiplyAdd(dst: Register, a: Register, b: Register, c: Register): void {
    this.#emit(x64.movq_rr(TEMP, reg(a)));
    this.#emit(x64.imulq_rr(TEMP, reg(b)));
    this.move(dst, c);
    this.#emit(x64.addq_rr(reg(dst), TEMP));
  }

  multiplySub(dst: Register, a: Register, b: Register, c: Register): void {
    this.#emit(x64.movq_rr(TEMP, reg(a)));
    this.#emit(x64.imulq_rr(TEMP, reg(b)));
    this.move(dst, c);
    this.#emit(x64.subq_rr(reg(dst), TEMP));
  }

  /** The one-operand imul multiplies rax and leaves the product in rdx:rax: borrow both, as div does. */
  mulHigh(dst: Register, a: Register, b: Register): void {
    const saved = [Reg.rdx, Reg.rax].filter((r) => r !== dst);
    for (const r of saved) this.#emit(x64.push_r(r));
    this.#emit(x64.movq_rr(TEMP, reg(b)));
    this.move(Reg.rax, a);
    this.#emit(x64.imulq_r(TEMP));
    this.move(dst, Reg.rdx);
    for (const r of saved.reverse()) this.#emit(x64.pop_r(r));
  }

  #commutative(op: (d: Reg, s: Reg) => number[], dst: Register, a: Register, b: Register): void {
    if (dst === b) {
      this.#emit(op(reg(dst), reg(a)));
    } else {
      this.move(dst, a);
      this.#emit(op(reg(dst), reg(b)));
    }
  }

  /** The count must be in cl: shift a copy of a in r11, borrowing rcx for b if b is not there. */
  #shift(op: (d: Reg) => number[], dst: Register, a: Register, b: Register): void {
    this.#emit(x64.movq_rr(TEMP, reg(a)));
    const borrow = b !== Reg.rcx && dst !== Reg.rcx;
    if (borrow) this.#emit(x64.push_r(Reg.rcx));
    this.move(Reg.rcx, b);
    this.#emit(op(TEMP));
    if (borrow) this.#emit(x64.pop_r(Reg.rcx));
    this.#emit(x64.movq_rr(reg(dst), TEMP));
  }

  /** The count is in the instruction (imm8): copy a to dst and shift it there; a count of 0 is a move. */
  #shiftImmediate(op: (d: Reg, count: number) => number[], dst: Register, a: Register, count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > 63) throw new RangeError(`shift by immediate: the count must be 0..63, not ${count}`);
    this.move(dst, a);
    if (count !== 0) this.#emit(op(reg(dst), count));
  }

  // ── compare and branch ─────────────────────────────────────────────────────────
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void {
    this.#emit(x64.cmpq_rr(reg(a), reg(b)));
    this.#emit(x64.setcc_r(CONDITIONS[cond], reg(dst)));
    this.#emit(x64.movzxb_rr(reg(dst), reg(dst)));
  }

  branchIf(cond: Condition, a: Register, b: Register, label: Label): void {
    this.#emit(x64.cmpq_rr(reg(a), reg(b)));
    this.asm.jcc(CONDITIONS[cond], label);
  }

  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void {
    if (value === 0) {
      this.#emit(x64.testq_rr(reg(a), reg(a))); // the same flags as cmp a, 0, one byte shorter
    } else if (fitsInt32(value)) {
      this.#emit(x64.cmpq_ri(reg(a), value));
    } else {
      this.moveImmediate(TEMP, BigInt(value));
      this.#emit(x64.cmpq_rr(reg(a), TEMP));
    }
    this.asm.jcc(CONDITIONS[cond], label);
  }

  jump(label: Label): void {
    this.asm.jmp(label);
  }

  jumpRegister(target: Register): void {
    this.#emit(x64.jmp_r(reg(target)));
  }

  branchIfZero(a: Register, label: Label): void {
    this.#emit(x64.testq_rr(reg(a), reg(a)));
    this.asm.jcc(x64.Cond.e, label);
  }

  branchIfNonZero(a: Register, label: Label): void {
    this.#emit(x64.testq_rr(reg(a), reg(a)));
    this.asm.jcc(x64.Cond.ne, label);
  }

  branchIfBitSet(a: Register, bit: number, label: Label): void {
    this.#testBit(a, bit);
    this.asm.jcc(x64.Cond.ne, label);
  }

  branchIfBitClear(a: Register, bit: number, label: Label): void {
    this.#testBit(a, bit);
    this.asm.jcc(x64.Cond.e, label);
  }

  /**
   * test's imm32 is sign-extended, so `test a, 1 << 31` would test bits 31..63: bits 0..30
   * use the immediate, bits 31..63 a mask in r11.
   */
  #testBit(a: Register, bit: number): void {
    if (!Number.isInteger(bit) || bit < 0 || bit > 63) throw new RangeError(`branchIfBit: bit must be 0..63, got ${bit}`);
    if (bit < 31) {
      this.#emit(x64.testq_ri(reg(a), 2 ** bit));
    } else {
      this.#emit(x64.movq_ri(TEMP, 1n << BigInt(bit)));
      this.#emit(x64.testq_rr(reg(a), TEMP));
    }
  }

  /** cmp, then dst = ifFalse and cmov ifTrue (mov leaves the flags alone); the other way round if dst is ifTrue. */
  select(cond: Condition, dst: Register, a: Register, b: Register, ifTrue: Register, ifFalse: Register): void {
    this.#emit(x64.cmpq_rr(reg(a), reg(b)));
    if (dst === ifTrue) {
      this.#emit(x64.cmovcc_rr(x64.negate(CONDITIONS[cond]), reg(dst), reg(ifFalse)));
    } else {
      this.move(dst, ifFalse);
      this.#emit(x64.cmovcc_rr(CONDITIONS[cond], reg(dst), reg(ifTrue)));
    }
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): number {
    this.asm.call(label);
    return this.size;
  }

  callAddress(address: bigint): number {
    this.#emit(x64.movq_ri(TEMP, BigInt.asUintN(64, address)));
    this.#emit(x64.call_r(TEMP));
    return this.size;
  }

  callRegister(target: Register): number {
    this.#emit(x64.call_r(reg(target)));
    return this.size;
  }

  /** movabs r11, address (10 bytes, the address at +2); call r11 (3 bytes). */
  callPatchable(address: bigint): PatchableCall {
    const at = this.size;
    this.#emit(x64.movabsq_ri(TEMP, BigInt.asUintN(64, address)));
    this.#emit(x64.call_r(TEMP));
    return { at, length: this.size - at, returnOffset: this.size };
  }

  patchCall(code: Uint8Array, site: PatchableCall, address: bigint): void {
    const expected = x64.movabsq_ri(TEMP, 0n).slice(0, 2);
    if (code[site.at] !== expected[0] || code[site.at + 1] !== expected[1]) {
      throw new Error(`patchCall: no patchable call at offset ${site.at} (expected movabs r11 there)`);
    }
    code.set(x64.movabsq_ri(TEMP, BigInt.asUintN(64, address)), site.at);
  }

  ret(): void {
    this.#emit(x64.ret());
  }

  // ── memory ─────────────────────────────────────────────────────────────────────
  load(dst: Register, base: Register, offset: number): void {
    this.#emit(x64.movq_rm(reg(dst), mem(reg(base), offset)));
  }

  store(src: Register, base: Register, offset: number): void {
    this.#emit(x64.movq_mr(mem(reg(base), offset), reg(src)));
  }

  loadIndexed(dst: Register, base: Register, index: Register, offset = 0): void {
    this.#emit(x64.movq_rm(reg(dst), this.#indexed(base, index, offset)));
  }

  storeIndexed(src: Register, base: Register, index: Register, offset = 0): void {
    this.#emit(x64.movq_mr(this.#indexed(base, index, offset), reg(src)));
  }

  /** [base + index*8 + offset]: rsp is no index register (SIB index 100 means none). */
  #indexed(base: Register, index: Register, offset: number): x64.Mem {
    if (reg(index) === Reg.rsp) throw new RangeError('loadIndexed/storeIndexed: the index cannot be rsp');
    if (!fitsInt32(offset)) throw new RangeError(`loadIndexed/storeIndexed: offset ${offset} does not fit in a disp32`);
    return mem(reg(base), reg(index), 8, offset);
  }

  loadLabelAddress(dst: Register, label: Label): void {
    this.asm.leaLabel(reg(dst), label);
  }

  loadSlot(dst: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    this.load(dst, Reg.rbp, framePresent(frame, 'loadSlot').slotOffset(slot));
  }

  storeSlot(src: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    this.store(src, Reg.rbp, framePresent(frame, 'storeSlot').slotOffset(slot));
  }

  // ── output ─────────────────────────────────────────────────────────────────────
  comment(text: string): void {
    this.asm.comment(text);
  }

  trap(): void {
    this.#emit(x64.ud2());
  }

  finish(): Uint8Array {
    return this.asm.finish();
  }

  listing(): ListingLine[] {
    return this.asm.listing();
  }
}

/** A Register as the encoders' type, checked: 0..15. */
function reg(r: Register): Reg {
  if (!Number.isInteger(r) || r < 0 || r > 15) throw new RangeError(`x86-64 has registers 0..15 (rax..r15), got ${r}`);
  return r as Reg;
}

/** The frame to use, or an error: slots and epilogues exist only after a prologue. */
function framePresent(frame: Frame | undefined, method: string): Frame {
  if (frame === undefined) throw new Error(`${method}: no frame (call prologue first, or pass the Frame it returned)`);
  return frame;
}
