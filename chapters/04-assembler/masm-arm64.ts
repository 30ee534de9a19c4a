/**
 * Chapter 04: the MacroAssembler for AArch64 (AAPCS64).    Book: book/04-assembler.md
 *
 * YOUR TASK: replace every `todo(...)` with the instructions, using your chapter 03 encoders
 * (`a64.*`) and emitting through `this.#emit`. `move` and `add` are worked examples, and the
 * plumbing to the assembler (size, labels, comment, finish, listing) is given. Labels and
 * branches need assembler.ts first. Run `npm run check chapter-04` after each group.
 *
 * Registers by role:
 *   args         x0..x7                          result  x0
 *   scratch      x9..x15                         calleeSaved  x19..x28
 *   internal     x16, x17 (the masm's own temporaries: large immediates and offsets,
 *                remainders, callAddress; the ABI reserves them for exactly this)
 *   frame        x29 (frame pointer), x30 (link register), sp
 *   untouched    x8 (indirect result), x18 (platform register)
 *
 * Every instruction takes three registers, so no method needs a fixed register the way
 * x86-64's idiv and shifts do: every method changes only its dst, x16/x17 and the flags,
 * and dst, a and b may be any registers.
 *
 * The methods are listed in the same order as in MacroAssemblerX64 (masm-x64.ts).
 */
import * as a64 from '#ch03/arm64.ts';
import { todo } from '#native/todo.ts';
import type { Arch } from '#native/arch.ts';
import { Arm64Assembler, checkFrame } from './assembler.ts';
import type { Condition, Label, ListingLine, MacroAssembler, Register, RegisterRoles } from './macro-assembler.ts';

const { Reg } = a64;
type Reg = a64.Reg;

/** The masm's own temporaries (IP0 and IP1 in the ABI): in none of the role lists. */
const TEMP = Reg.x16;

/**
 * ISA-neutral conditions as AArch64 condition codes (after `cmp a, b`). lt/le/gt/ge compare
 * signed, ult/ule/ugt/uge unsigned (lo, ls, hi, hs). A `Record<Condition, a64.Cond>` table
 * is the natural shape.
 */
export function conditionCode(cond: Condition): a64.Cond {
  return todo(`conditionCode('${cond}') for AArch64`);
}

const ROLES: RegisterRoles = {
  args: [Reg.x0, Reg.x1, Reg.x2, Reg.x3, Reg.x4, Reg.x5, Reg.x6, Reg.x7],
  result: Reg.x0,
  scratch: [Reg.x9, Reg.x10, Reg.x11, Reg.x12, Reg.x13, Reg.x14, Reg.x15],
  calleeSaved: [Reg.x19, Reg.x20, Reg.x21, Reg.x22, Reg.x23, Reg.x24, Reg.x25, Reg.x26, Reg.x27, Reg.x28],
};

/** An add/sub immediate: 0..4095, or a multiple of 4096 up to 4095 << 12. */
function isAddImmediate(v: number): boolean {
  return Number.isInteger(v) && ((v >= 0 && v <= 0xfff) || (v > 0 && v % 0x1000 === 0 && v <= 0xfff000));
}

export class MacroAssemblerArm64 implements MacroAssembler {
  readonly arch: Arch = 'arm64';
  readonly regs: RegisterRoles = ROLES;
  /** The assembler underneath, for what the interface does not cover (cbz, tbz, raw encodings). */
  readonly asm = new Arm64Assembler();
  /** What the current function's prologue saved, for its epilogue(s). */
  #saved: readonly Reg[] = [];

  get size(): number {
    return this.asm.size;
  }

  #emit(word: number): void {
    this.asm.emit(word);
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
   *   [x29 + 8]            the caller's x30 (return address)
   *   [x29]                the caller's x29
   *   [x29 - 8 (i + 1)]    saved[i]
   *   [x29 - 8 (k + i + 1)] slot i        (k = saved.length)
   * sp must be a multiple of 16 whenever it is used, so the frame is rounded up to 16.
   */
  prologue(slots: number, saved: readonly Register[] = []): void {
    todo('MacroAssemblerArm64.prologue');
  }

  epilogue(): void {
    todo('MacroAssemblerArm64.epilogue');
  }

  // ── moves ──────────────────────────────────────────────────────────────────────
  move(dst: Register, src: Register): void {
    if (dst !== src) this.#emit(a64.mov_reg(dst as Reg, src as Reg));
  }

  /**
   * The shortest of three ways: one `orr dst, xzr, #bitmask`; movz then a movk for every
   * other non-zero 16-bit chunk; movn then a movk for every other chunk that is not 0xffff.
   */
  moveImmediate(dst: Register, value: bigint): void {
    todo('MacroAssemblerArm64.moveImmediate');
  }

  // ── arithmetic ─────────────────────────────────────────────────────────────────
  add(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.add_reg(dst as Reg, a as Reg, b as Reg));
  }

  addImmediate(dst: Register, a: Register, value: number): void {
    todo('MacroAssemblerArm64.addImmediate');
  }

  sub(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.sub');
  }

  mul(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.mul');
  }

  /** sdiv rounds toward zero, like idiv; it returns 0 for b == 0 instead of trapping. */
  div(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.div');
  }

  /** There is no remainder instruction: a - (a / b) * b, which is one msub (through x16). */
  rem(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.rem');
  }

  and(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.and');
  }

  or(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.or');
  }

  xor(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.xor');
  }

  shl(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.shl');
  }

  sar(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.sar');
  }

  shr(dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.shr');
  }

  neg(dst: Register, a: Register): void {
    todo('MacroAssemblerArm64.neg');
  }

  not(dst: Register, a: Register): void {
    todo('MacroAssemblerArm64.not');
  }

  // ── compare and branch ─────────────────────────────────────────────────────────
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void {
    todo('MacroAssemblerArm64.setIf');
  }

  branchIf(cond: Condition, a: Register, b: Register, label: Label): void {
    todo('MacroAssemblerArm64.branchIf');
  }

  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void {
    todo('MacroAssemblerArm64.branchIfImmediate');
  }

  jump(label: Label): void {
    todo('MacroAssemblerArm64.jump');
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): void {
    todo('MacroAssemblerArm64.call');
  }

  callAddress(address: bigint): void {
    todo('MacroAssemblerArm64.callAddress');
  }

  callRegister(target: Register): void {
    todo('MacroAssemblerArm64.callRegister');
  }

  ret(): void {
    todo('MacroAssemblerArm64.ret');
  }

  // ── memory ─────────────────────────────────────────────────────────────────────
  /** ldr with a scaled offset, ldur with a small unscaled one, else the address in x16. */
  load(dst: Register, base: Register, offset: number): void {
    todo('MacroAssemblerArm64.load');
  }

  store(src: Register, base: Register, offset: number): void {
    todo('MacroAssemblerArm64.store');
  }

  /** Slot i of the frame prologue() set up: [x29 - 8 * (saved.length + i + 1)]. */
  loadSlot(dst: Register, slot: number): void {
    todo('MacroAssemblerArm64.loadSlot');
  }

  storeSlot(src: Register, slot: number): void {
    todo('MacroAssemblerArm64.storeSlot');
  }

  // ── output ─────────────────────────────────────────────────────────────────────
  comment(text: string): void {
    this.asm.comment(text);
  }

  trap(): void {
    todo('MacroAssemblerArm64.trap');
  }

  finish(): Uint8Array {
    return this.asm.finish();
  }

  listing(): ListingLine[] {
    return this.asm.listing();
  }
}
