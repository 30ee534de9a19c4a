/**
 * Chapter 04: the MacroAssembler for x86-64 (System V AMD64 ABI).    Book: book/04-assembler.md
 *
 * YOUR TASK: replace every `todo(...)` with the instructions, using your chapter 03 encoders
 * (`x64.*`) and emitting through `this.#emit`. `move` and `add` are worked examples, and the
 * plumbing to the assembler (size, labels, comment, finish, listing) is given. Labels and
 * branches need assembler.ts first. Run `npm run check chapter-04` after each group.
 *
 * Registers by role:
 *   args         rdi, rsi, rdx, rcx, r8, r9      result  rax
 *   scratch      r10                             calleeSaved  rbx, r12, r13, r14, r15
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
import { todo } from '#native/todo.ts';
import type { Arch } from '#native/arch.ts';
import { X64Assembler, checkFrame } from './assembler.ts';
import type { Condition, Label, ListingLine, MacroAssembler, Register, RegisterRoles } from './macro-assembler.ts';

const { Reg, mem } = x64;
type Reg = x64.Reg;

/** The masm's own temporary: in none of the role lists, so code above never holds a value in it. */
const TEMP = Reg.r11;

/**
 * ISA-neutral conditions as x86-64 condition codes (after `cmp a, b`). lt/le/gt/ge compare
 * signed, ult/ule/ugt/uge unsigned: x86-64 has different codes for the two (x64.Cond).
 * A table (`Record<Condition, x64.Cond>`) is the natural shape.
 */
export function conditionCode(cond: Condition): x64.Cond {
  return todo(`conditionCode('${cond}') for x86-64`);
}

const ROLES: RegisterRoles = {
  args: [Reg.rdi, Reg.rsi, Reg.rdx, Reg.rcx, Reg.r8, Reg.r9],
  result: Reg.rax,
  scratch: [Reg.r10],
  calleeSaved: [Reg.rbx, Reg.r12, Reg.r13, Reg.r14, Reg.r15],
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
  /** What the current function's prologue saved, for its epilogue(s). */
  #saved: readonly Reg[] = [];

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
  prologue(slots: number, saved: readonly Register[] = []): void {
    todo('MacroAssemblerX64.prologue');
  }

  epilogue(): void {
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

  /**
   * idiv divides the 128-bit rdx:rax by its operand: quotient in rax, remainder in rdx.
   * Save rax and rdx unless dst is one of them, copy b to r11 before anything overwrites it,
   * a to rax, sign-extend rax into rdx (cqo), idiv r11, take the result, restore. A private
   * helper shared by div and rem keeps it in one place.
   */
  div(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.div');
  }

  rem(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.rem');
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

  /**
   * The count must be in cl. Copy a to r11 first (a may be rcx), push rcx unless b or dst
   * is rcx, move b to rcx, shift r11 by cl, pop rcx, and move r11 to dst.
   */
  shl(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.shl');
  }

  sar(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.sar');
  }

  shr(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerX64.shr');
  }

  neg(dst: Register, a: Register): void {
    todo('MacroAssemblerX64.neg');
  }

  not(dst: Register, a: Register): void {
    todo('MacroAssemblerX64.not');
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

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): void {
    todo('MacroAssemblerX64.call');
  }

  callAddress(address: bigint): void {
    todo('MacroAssemblerX64.callAddress');
  }

  callRegister(target: Register): void {
    todo('MacroAssemblerX64.callRegister');
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

  loadSlot(dst: Register, slot: number): void {
    todo('MacroAssemblerX64.loadSlot');
  }

  storeSlot(src: Register, slot: number): void {
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
