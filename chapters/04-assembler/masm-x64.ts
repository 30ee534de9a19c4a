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
import { todo } from '#native/todo.ts';
// TODO: replace every todo(...) with the instructions, using your chapter 03 encoders (x64.*)
//       and emitting through this.#emit. move and add are worked examples; size, labels, comment, finish
//       and listing are given. Labels and branches need assembler.ts first. Book: book/04-assembler.md.

const { Reg, mem } = x64;
type Reg = x64.Reg;

/** The masm's own temporary: in none of the role lists, so code above never holds a value in it. */
const TEMP = Reg.r11;

/** The condition code for `cond`, as the hardware numbers it. */
export function conditionCode(cond: Condition): x64.Cond {
  // TODO: a Record<Condition, x64.Cond> table (lt/le/gt/ge signed, ult/ule/ugt/uge unsigned: l/le/g/ge and b/be/a/ae).
  return todo('conditionCode for x86-64');
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
    // TODO: build the frame with new FrameLayout(slots, saved, ROLES.calleeSaved) (it checks the arguments and knows the offsets),
    //       keep it as the default frame, emit the instructions, return it.
    return todo('MacroAssemblerX64.prologue');
  }

  epilogue(frame: Frame | undefined = this.#frame): void {
    // TODO: restore frame.saved from frame.savedOffset(i), then undo the prologue and return. Without a frame: framePresent tells the caller to call prologue first.
    todo('MacroAssemblerX64.epilogue');
  }

  // ── moves ──────────────────────────────────────────────────────────────────────
  move(dst: Register, src: Register): void {
    if (dst !== src) this.#emit(x64.movq_rr(reg(dst), reg(src)));
  }

  /** xor for 0 (3 bytes), a sign-extended imm32 (7 bytes), else movabs (10 bytes). */
  moveImmediate(dst: Register, value: bigint): void {
    todo('MacroAssemblerX64.moveImmediate');
  }

  // ── arithmetic ─────────────────────────────────────────────────────────────────
  add(dst: Register, a: Register, b: Register): void {
    if (dst === b) {
      this.#emit(x64.addq_rr(reg(dst), reg(a))); // dst = b + a
    } else {
      this.move(dst, a);
      this.#emit(x64.addq_rr(reg(dst), reg(b)));
    }
  }

  addImmediate(dst: Register, a: Register, value: number): void {
    todo('MacroAssemblerX64.addImmediate');
  }

  sub(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.sub');
  }

  mul(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.mul');
  }

  div(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.div');
  }

  rem(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.rem');
  }

  /**
   * idiv divides the 128-bit rdx:rax by its operand: quotient in rax, remainder in rdx.
   * So: save rax and rdx (unless dst is one of them), copy b to r11 before anything
   * overwrites it, a to rax, sign-extend rax into rdx (cqo), divide, take the result,
   * and restore what was saved.
   */
  #divide(dst: Register, a: Register, b: Register, result: Reg): void {
    todo('MacroAssemblerX64.#divide');
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
    todo('MacroAssemblerX64.and');
  }

  or(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.or');
  }

  xor(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.xor');
  }

  shl(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.shl');
  }

  sar(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.sar');
  }

  shr(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.shr');
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
    todo('MacroAssemblerX64.neg');
  }

  not(dst: Register, a: Register): void {
    todo('MacroAssemblerX64.not');
  }

  addScaled(dst: Register, a: Register, b: Register, scale: 1 | 2 | 4 | 8, offset = 0): void {
    // TODO: lea dst, [a + b*scale + offset] when the offset fits a disp32; b cannot be rsp.
    todo('MacroAssemblerX64.addScaled');
  }

  /** r11 = a * b first (a, b and c may be dst), then dst = c ± r11. */
  multiplyAdd(dst: Register, a: Register, b: Register, c: Register): void {
    // TODO: r11 = a * b first (a, b, c may all be dst), then dst = c + r11.
    todo('MacroAssemblerX64.multiplyAdd');
  }

  multiplySub(dst: Register, a: Register, b: Register, c: Register): void {
    // TODO: r11 = a * b first, then dst = c - r11.
    todo('MacroAssemblerX64.multiplySub');
  }

  /** The one-operand imul multiplies rax and leaves the product in rdx:rax: borrow both, as div does. */
  mulHigh(dst: Register, a: Register, b: Register): void {
    // TODO: the one-operand imul (rdx:rax = rax * src): borrow rax and rdx as #divide does; dst = rdx.
    todo('MacroAssemblerX64.mulHigh');
  }

  #commutative(op: (d: Reg, s: Reg) => number[], dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.#commutative');
  }

  /** The count must be in cl: shift a copy of a in r11, borrowing rcx for b if b is not there. */
  #shift(op: (d: Reg) => number[], dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.#shift');
  }

  /** The count is in the instruction (imm8): copy a to dst and shift it there; a count of 0 is a move. */
  #shiftImmediate(op: (d: Reg, count: number) => number[], dst: Register, a: Register, count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > 63) throw new RangeError(`shift by immediate: the count must be 0..63, not ${count}`);
    this.move(dst, a);
    if (count !== 0) this.#emit(op(reg(dst), count));
  }

  // ── compare and branch ─────────────────────────────────────────────────────────
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.setIf');
  }

  branchIf(cond: Condition, a: Register, b: Register, label: Label): void {
    todo('MacroAssemblerX64.branchIf');
  }

  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void {
    todo('MacroAssemblerX64.branchIfImmediate');
  }

  jump(label: Label): void {
    todo('MacroAssemblerX64.jump');
  }

  jumpRegister(target: Register): void {
    // TODO: jmp r (FF /4).
    todo('MacroAssemblerX64.jumpRegister');
  }

  branchIfZero(a: Register, label: Label): void {
    // TODO: test a, a; je.
    todo('MacroAssemblerX64.branchIfZero');
  }

  branchIfNonZero(a: Register, label: Label): void {
    // TODO: test a, a; jne.
    todo('MacroAssemblerX64.branchIfNonZero');
  }

  branchIfBitSet(a: Register, bit: number, label: Label): void {
    // TODO: #testBit, then jne.
    todo('MacroAssemblerX64.branchIfBitSet');
  }

  branchIfBitClear(a: Register, bit: number, label: Label): void {
    // TODO: #testBit, then je.
    todo('MacroAssemblerX64.branchIfBitClear');
  }

  /**
   * test's imm32 is sign-extended, so `test a, 1 << 31` would test bits 31..63: bits 0..30
   * use the immediate, bits 31..63 a mask in r11.
   */
  #testBit(a: Register, bit: number): void {
    // TODO: test a, 1 << bit for bits 0..30; from bit 31 on the imm32 would be sign-extended, so put the mask in r11 and test a, r11.
    todo('MacroAssemblerX64.#testBit');
  }

  /** cmp, then dst = ifFalse and cmov ifTrue (mov leaves the flags alone); the other way round if dst is ifTrue. */
  select(cond: Condition, dst: Register, a: Register, b: Register, ifTrue: Register, ifFalse: Register): void {
    // TODO: cmp a, b first; then dst = ifFalse and cmovcc dst, ifTrue, or, when dst is ifTrue, cmov the negated condition from ifFalse.
    todo('MacroAssemblerX64.select');
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): number {
    // TODO: emit the call and return the offset just after it (this.size): the return offset.
    return todo('MacroAssemblerX64.call');
  }

  callAddress(address: bigint): number {
    // TODO: the address into the internal register, a call through it; return the offset after the call.
    return todo('MacroAssemblerX64.callAddress');
  }

  callRegister(target: Register): number {
    // TODO: a call through the register; return the offset after the call.
    return todo('MacroAssemblerX64.callRegister');
  }

  /** movabs r11, address (10 bytes, the address at +2); call r11 (3 bytes). */
  callPatchable(address: bigint): PatchableCall {
    // TODO: movabsq_ri(r11, address) (always 10 bytes) and call r11; return { at, length, returnOffset }.
    return todo('MacroAssemblerX64.callPatchable');
  }

  patchCall(code: Uint8Array, site: PatchableCall, address: bigint): void {
    // TODO: check that a movabs r11 starts at site.at, then overwrite it with movabsq_ri(r11, address).
    todo('MacroAssemblerX64.patchCall');
  }

  ret(): void {
    todo('MacroAssemblerX64.ret');
  }

  // ── memory ─────────────────────────────────────────────────────────────────────
  load(dst: Register, base: Register, offset: number): void {
    todo('MacroAssemblerX64.load');
  }

  store(src: Register, base: Register, offset: number): void {
    todo('MacroAssemblerX64.store');
  }

  loadIndexed(dst: Register, base: Register, index: Register, offset = 0): void {
    // TODO: mov dst, [base + index*8 + offset] (#indexed).
    todo('MacroAssemblerX64.loadIndexed');
  }

  storeIndexed(src: Register, base: Register, index: Register, offset = 0): void {
    // TODO: mov [base + index*8 + offset], src.
    todo('MacroAssemblerX64.storeIndexed');
  }

  /** [base + index*8 + offset]: rsp is no index register (SIB index 100 means none). */
  #indexed(base: Register, index: Register, offset: number): x64.Mem {
    // TODO: refuse rsp as index and an offset beyond disp32; mem(base, index, 8, offset).
    return todo('MacroAssemblerX64.#indexed');
  }

  loadLabelAddress(dst: Register, label: Label): void {
    // TODO: this.asm.leaLabel: lea dst, [rip + rel32], a fixup like a jump's.
    todo('MacroAssemblerX64.loadLabelAddress');
  }

  loadSlot(dst: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    // TODO: a load from fp + frame.slotOffset(slot) (the default frame when none is given).
    todo('MacroAssemblerX64.loadSlot');
  }

  storeSlot(src: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    // TODO: a store to fp + frame.slotOffset(slot).
    todo('MacroAssemblerX64.storeSlot');
  }

  // ── output ─────────────────────────────────────────────────────────────────────
  comment(text: string): void {
    this.asm.comment(text);
  }

  trap(): void {
    todo('MacroAssemblerX64.trap');
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
