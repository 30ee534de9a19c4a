/**
 * Chapter 04: the MacroAssembler for AArch64 (AAPCS64).
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
import type { Arch } from '#native/arch.ts';
import { Arm64Assembler, checkFrame } from './assembler.ts';
import type { Condition, Label, ListingLine, MacroAssembler, Register, RegisterRoles } from './macro-assembler.ts';

const { Reg } = a64;
type Reg = a64.Reg;

/** The masm's own temporaries (IP0 and IP1 in the ABI): in none of the role lists. */
const TEMP = Reg.x16;

// @book:start arm64-conditions
/** ISA-neutral conditions as AArch64 condition codes (after `cmp a, b`). */
const CONDITIONS: Record<Condition, a64.Cond> = {
  eq: a64.Cond.eq, ne: a64.Cond.ne,
  lt: a64.Cond.lt, le: a64.Cond.le, gt: a64.Cond.gt, ge: a64.Cond.ge,
  ult: a64.Cond.lo, ule: a64.Cond.ls, ugt: a64.Cond.hi, uge: a64.Cond.hs,
};

/** The condition code for `cond`, as the hardware numbers it. */
export function conditionCode(cond: Condition): a64.Cond {
  return CONDITIONS[cond];
}
// @book:end arm64-conditions

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
  // @book:start arm64-frame
  /**
   *   [x29 + 8]            the caller's x30 (return address)
   *   [x29]                the caller's x29
   *   [x29 - 8 (i + 1)]    saved[i]
   *   [x29 - 8 (k + i + 1)] slot i        (k = saved.length)
   * sp must be a multiple of 16 whenever it is used, so the frame is rounded up to 16.
   */
  prologue(slots: number, saved: readonly Register[] = []): void {
    checkFrame(slots, saved, ROLES.calleeSaved);
    this.#saved = [...saved] as Reg[];
    const frameBytes = Math.ceil((saved.length + slots) / 2) * 16;
    this.#emit(a64.stp_pre(Reg.fp, Reg.lr, Reg.sp, -16));
    this.#emit(a64.mov_reg(Reg.fp, Reg.sp));
    if (isAddImmediate(frameBytes)) {
      if (frameBytes > 0) this.#emit(a64.sub_imm(Reg.sp, Reg.sp, frameBytes));
    } else {
      this.moveImmediate(TEMP, BigInt(frameBytes));
      this.#emit(a64.sub_reg(TEMP, Reg.fp, TEMP));
      this.#emit(a64.mov_reg(Reg.sp, TEMP));
    }
    this.#saved.forEach((reg, i) => this.store(reg, Reg.fp, -8 * (i + 1)));
  }

  epilogue(): void {
    this.#saved.forEach((reg, i) => this.load(reg, Reg.fp, -8 * (i + 1)));
    this.#emit(a64.mov_reg(Reg.sp, Reg.fp));
    this.#emit(a64.ldp_post(Reg.fp, Reg.lr, Reg.sp, 16));
    this.#emit(a64.ret());
  }
  // @book:end arm64-frame

  // ── moves ──────────────────────────────────────────────────────────────────────
  move(dst: Register, src: Register): void {
    if (dst !== src) this.#emit(a64.mov_reg(dst as Reg, src as Reg));
  }

  // @book:start arm64-move-immediate
  /**
   * The shortest of three ways: one `orr dst, xzr, #bitmask`; movz then a movk for every
   * other non-zero 16-bit chunk; movn then a movk for every other chunk that is not 0xffff.
   */
  moveImmediate(dst: Register, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    const chunks = [0, 1, 2, 3].map((k) => Number((v >> BigInt(16 * k)) & 0xffffn));
    const withMovz = Math.max(1, chunks.filter((c) => c !== 0).length);
    const withMovn = Math.max(1, chunks.filter((c) => c !== 0xffff).length);
    if (Math.min(withMovz, withMovn) > 1 && a64.encodeBitmask(v) !== null) {
      this.#emit(a64.orr_imm(dst as Reg, Reg.xzr, v));
      return;
    }
    // movz starts from all zeros, movn from all ones; then movk fills in the chunks that differ.
    const inverted = withMovn < withMovz;
    const background = inverted ? 0xffff : 0;
    const needed = [0, 1, 2, 3].filter((k) => chunks[k] !== background);
    if (needed.length === 0) needed.push(0);
    needed.forEach((k, i) => {
      const chunk = chunks[k]!;
      if (i > 0) this.#emit(a64.movk(dst as Reg, chunk, 16 * k));
      else if (inverted) this.#emit(a64.movn(dst as Reg, ~chunk & 0xffff, 16 * k));
      else this.#emit(a64.movz(dst as Reg, chunk, 16 * k));
    });
  }
  // @book:end arm64-move-immediate

  // ── arithmetic ─────────────────────────────────────────────────────────────────
  // @book:start arm64-add
  add(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.add_reg(dst as Reg, a as Reg, b as Reg));
  }
  // @book:end arm64-add

  addImmediate(dst: Register, a: Register, value: number): void {
    if (isAddImmediate(value)) {
      if (value !== 0 || dst !== a) this.#emit(a64.add_imm(dst as Reg, a as Reg, value));
    } else if (isAddImmediate(-value)) {
      this.#emit(a64.sub_imm(dst as Reg, a as Reg, -value));
    } else {
      this.moveImmediate(TEMP, BigInt(value));
      this.#emit(a64.add_reg(dst as Reg, a as Reg, TEMP));
    }
  }

  sub(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.sub_reg(dst as Reg, a as Reg, b as Reg));
  }

  mul(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.mul(dst as Reg, a as Reg, b as Reg));
  }

  // @book:start arm64-div
  /** sdiv rounds toward zero, like idiv; it returns 0 for b == 0 instead of trapping. */
  div(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.sdiv(dst as Reg, a as Reg, b as Reg));
  }

  /** There is no remainder instruction: a - (a / b) * b, which is one msub. */
  rem(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.sdiv(TEMP, a as Reg, b as Reg));
    this.#emit(a64.msub(dst as Reg, TEMP, b as Reg, a as Reg));
  }
  // @book:end arm64-div

  and(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.and_reg(dst as Reg, a as Reg, b as Reg));
  }

  or(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.orr_reg(dst as Reg, a as Reg, b as Reg));
  }

  xor(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.eor_reg(dst as Reg, a as Reg, b as Reg));
  }

  shl(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.lslv(dst as Reg, a as Reg, b as Reg));
  }

  sar(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.asrv(dst as Reg, a as Reg, b as Reg));
  }

  shr(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.lsrv(dst as Reg, a as Reg, b as Reg));
  }

  neg(dst: Register, a: Register): void {
    this.#emit(a64.neg(dst as Reg, a as Reg));
  }

  not(dst: Register, a: Register): void {
    this.#emit(a64.mvn(dst as Reg, a as Reg));
  }

  // ── compare and branch ─────────────────────────────────────────────────────────
  // @book:start arm64-compare
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void {
    this.#emit(a64.cmp_reg(a as Reg, b as Reg));
    this.#emit(a64.cset(dst as Reg, CONDITIONS[cond]));
  }

  branchIf(cond: Condition, a: Register, b: Register, label: Label): void {
    this.#emit(a64.cmp_reg(a as Reg, b as Reg));
    this.asm.b_cond(CONDITIONS[cond], label);
  }
  // @book:end arm64-compare

  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void {
    if (value === 0 && (cond === 'eq' || cond === 'ne')) {
      if (cond === 'eq') this.asm.cbz(a as Reg, label); // compare and branch in one instruction
      else this.asm.cbnz(a as Reg, label);
      return;
    }
    if (isAddImmediate(value)) {
      this.#emit(a64.cmp_imm(a as Reg, value));
    } else if (isAddImmediate(-value)) {
      this.#emit(a64.cmn_imm(a as Reg, -value)); // a + -value sets the flags of a - value
    } else {
      this.moveImmediate(TEMP, BigInt(value));
      this.#emit(a64.cmp_reg(a as Reg, TEMP));
    }
    this.asm.b_cond(CONDITIONS[cond], label);
  }

  jump(label: Label): void {
    this.asm.b(label);
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): void {
    this.asm.bl(label);
  }

  callAddress(address: bigint): void {
    this.moveImmediate(TEMP, address);
    this.#emit(a64.blr(TEMP));
  }

  callRegister(target: Register): void {
    this.#emit(a64.blr(target as Reg));
  }

  ret(): void {
    this.#emit(a64.ret());
  }

  // ── memory ─────────────────────────────────────────────────────────────────────
  /** ldr with a scaled offset, ldur with a small unscaled one, else the address in x16. */
  load(dst: Register, base: Register, offset: number): void {
    if (offset % 8 === 0 && offset >= 0 && offset <= 32760) {
      this.#emit(a64.ldr_imm(dst as Reg, base as Reg, offset));
    } else if (offset >= -256 && offset <= 255) {
      this.#emit(a64.ldur(dst as Reg, base as Reg, offset));
    } else {
      this.#address(base, offset);
      this.#emit(a64.ldr_imm(dst as Reg, TEMP, 0));
    }
  }

  store(src: Register, base: Register, offset: number): void {
    if (offset % 8 === 0 && offset >= 0 && offset <= 32760) {
      this.#emit(a64.str_imm(src as Reg, base as Reg, offset));
    } else if (offset >= -256 && offset <= 255) {
      this.#emit(a64.stur(src as Reg, base as Reg, offset));
    } else {
      this.#address(base, offset);
      this.#emit(a64.str_imm(src as Reg, TEMP, 0));
    }
  }

  loadSlot(dst: Register, slot: number): void {
    this.load(dst, Reg.fp, this.#slotOffset(slot));
  }

  storeSlot(src: Register, slot: number): void {
    this.store(src, Reg.fp, this.#slotOffset(slot));
  }

  /** x16 = base + offset, for offsets no load or store can hold. */
  #address(base: Register, offset: number): void {
    this.moveImmediate(TEMP, BigInt(offset));
    this.#emit(a64.add_reg(TEMP, base as Reg, TEMP));
  }

  #slotOffset(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0) throw new RangeError(`slot ${slot}: a slot number is an integer >= 0`);
    return -8 * (this.#saved.length + slot + 1);
  }

  // ── output ─────────────────────────────────────────────────────────────────────
  comment(text: string): void {
    this.asm.comment(text);
  }

  trap(): void {
    this.#emit(a64.udf(0));
  }

  finish(): Uint8Array {
    return this.asm.finish();
  }

  listing(): ListingLine[] {
    return this.asm.listing();
  }
}
