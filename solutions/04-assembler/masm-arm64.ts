/**
 * Chapter 04: the MacroAssembler for AArch64 (AAPCS64).
 *
 * Registers by role:
 *   args         x0..x7                          result  x0
 *   scratch      x9..x15                         calleeSaved  x19..x28
 *   pinned       x28, x27 (reserved for the VM; callee-saved, but never allocated)
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
import { Arm64Assembler, FrameLayout } from './assembler.ts';
import type { Condition, Frame, Label, ListingLine, MacroAssembler, PatchableCall, Register, RegisterRoles } from './macro-assembler.ts';

const { Reg } = a64;
type Reg = a64.Reg;

/** The masm's own temporaries (IP0 and IP1 in the ABI): in none of the role lists. */
const TEMP = Reg.x16;

// ISA-neutral conditions as AArch64 condition codes (after `cmp a, b`).
const CONDITIONS: Record<Condition, a64.Cond> = {
  eq: a64.Cond.eq, ne: a64.Cond.ne,
  lt: a64.Cond.lt, le: a64.Cond.le, gt: a64.Cond.gt, ge: a64.Cond.ge,
  ult: a64.Cond.lo, ule: a64.Cond.ls, ugt: a64.Cond.hi, uge: a64.Cond.hs,
};

/** The condition code for `cond`, as the hardware numbers it. */
export function conditionCode(cond: Condition): a64.Cond {
  return CONDITIONS[cond];
}

const ROLES: RegisterRoles = {
  args: [Reg.x0, Reg.x1, Reg.x2, Reg.x3, Reg.x4, Reg.x5, Reg.x6, Reg.x7],
  result: Reg.x0,
  scratch: [Reg.x9, Reg.x10, Reg.x11, Reg.x12, Reg.x13, Reg.x14, Reg.x15],
  calleeSaved: [Reg.x19, Reg.x20, Reg.x21, Reg.x22, Reg.x23, Reg.x24, Reg.x25, Reg.x26, Reg.x27, Reg.x28],
  pinned: [Reg.x28, Reg.x27],
  allocatable: [Reg.x0, Reg.x1, Reg.x2, Reg.x3, Reg.x4, Reg.x5, Reg.x6, Reg.x7, Reg.x9, Reg.x10, Reg.x11, Reg.x12, Reg.x13, Reg.x14, Reg.x15,
    Reg.x19, Reg.x20, Reg.x21, Reg.x22, Reg.x23, Reg.x24, Reg.x25, Reg.x26],
  fp: Reg.fp,
  sp: Reg.sp,
};

/** The second internal temporary (IP1), for what needs two: an address off sp, a patchable call. */
const TEMP2 = Reg.x17;

/** An add/sub immediate: 0..4095, or a multiple of 4096 up to 4095 << 12. */
function isAddImmediate(v: number): boolean {
  return Number.isInteger(v) && ((v >= 0 && v <= 0xfff) || (v > 0 && v % 0x1000 === 0 && v <= 0xfff000));
}

export class MacroAssemblerArm64 implements MacroAssembler {
  readonly arch: Arch = 'arm64';
  readonly regs: RegisterRoles = ROLES;
  /** The assembler underneath, for what the interface does not cover (cbz, tbz, raw encodings). */
  readonly asm = new Arm64Assembler();
  /** The frame of the latest prologue: the default for epilogue, loadSlot and storeSlot. */
  #frame: Frame | undefined = undefined;

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
  prologue(slots: number, saved: readonly Register[] = []): Frame {
    const frame = new FrameLayout(slots, saved, ROLES.calleeSaved);
    this.#frame = frame;
    this.#emit(a64.stp_pre(Reg.fp, Reg.lr, Reg.sp, -16));
    this.#emit(a64.mov_reg(Reg.fp, Reg.sp));
    if (isAddImmediate(frame.size)) {
      if (frame.size > 0) this.#emit(a64.sub_imm(Reg.sp, Reg.sp, frame.size));
    } else {
      this.moveImmediate(TEMP, BigInt(frame.size));
      this.#emit(a64.sub_reg(TEMP, Reg.fp, TEMP));
      this.#emit(a64.mov_reg(Reg.sp, TEMP));
    }
    frame.saved.forEach((r, i) => this.store(r, Reg.fp, frame.savedOffset(i)));
    return frame;
  }

  epilogue(frame: Frame | undefined = this.#frame): void {
    const f = framePresent(frame, 'epilogue');
    f.saved.forEach((r, i) => this.load(r, Reg.fp, f.savedOffset(i)));
    this.#emit(a64.mov_reg(Reg.sp, Reg.fp));
    this.#emit(a64.ldp_post(Reg.fp, Reg.lr, Reg.sp, 16));
    this.#emit(a64.ret());
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
    } else if (dst === Reg.sp || a === Reg.sp) {
      // add (shifted register) cannot name sp: go through x17, which mov can set from and to sp.
      this.moveImmediate(TEMP, BigInt(value));
      this.#emit(a64.mov_reg(TEMP2, a as Reg));
      this.#emit(a64.add_reg(TEMP2, TEMP2, TEMP));
      this.#emit(a64.mov_reg(dst as Reg, TEMP2));
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

  /** sdiv rounds toward zero, like idiv; it returns 0 for b == 0 instead of trapping. */
  div(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.sdiv(dst as Reg, a as Reg, b as Reg));
  }

  /** There is no remainder instruction: a - (a / b) * b, which is one msub. */
  rem(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.sdiv(TEMP, a as Reg, b as Reg));
    this.#emit(a64.msub(dst as Reg, TEMP, b as Reg, a as Reg));
  }

  /** sdiv takes about as long for small operands as a 32-bit divide would: div and rem as they are. */
  divFast(dst: Register, a: Register, b: Register): void {
    this.div(dst, a, b);
  }

  remFast(dst: Register, a: Register, b: Register): void {
    this.rem(dst, a, b);
  }

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

  shlImmediate(dst: Register, a: Register, count: number): void {
    this.#emit(a64.lsl_imm(dst as Reg, a as Reg, count));
  }

  sarImmediate(dst: Register, a: Register, count: number): void {
    this.#emit(a64.asr_imm(dst as Reg, a as Reg, count));
  }

  shrImmediate(dst: Register, a: Register, count: number): void {
    this.#emit(a64.lsr_imm(dst as Reg, a as Reg, count));
  }

  neg(dst: Register, a: Register): void {
    this.#emit(a64.neg(dst as Reg, a as Reg));
  }

  not(dst: Register, a: Register): void {
    this.#emit(a64.mvn(dst as Reg, a as Reg));
  }

  addScaled(dst: Register, a: Register, b: Register, scale: 1 | 2 | 4 | 8, offset = 0): void {
    if (b === Reg.sp) throw new RangeError('addScaled: b cannot be sp');
    const shift = scale === 1 ? 0 : scale === 2 ? 1 : scale === 4 ? 2 : 3;
    if (offset === 0) {
      this.#emit(a64.add_reg(dst as Reg, a as Reg, b as Reg, a64.Shift.lsl, shift));
    } else {
      this.#emit(a64.add_reg(TEMP2, a as Reg, b as Reg, a64.Shift.lsl, shift));
      this.addImmediate(dst, TEMP2, offset);
    }
  }

  multiplyAdd(dst: Register, a: Register, b: Register, c: Register): void {
    this.#emit(a64.madd(dst as Reg, a as Reg, b as Reg, c as Reg));
  }

  multiplySub(dst: Register, a: Register, b: Register, c: Register): void {
    this.#emit(a64.msub(dst as Reg, a as Reg, b as Reg, c as Reg));
  }

  mulHigh(dst: Register, a: Register, b: Register): void {
    this.#emit(a64.smulh(dst as Reg, a as Reg, b as Reg));
  }

  // ── compare and branch ─────────────────────────────────────────────────────────
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void {
    this.#emit(a64.cmp_reg(a as Reg, b as Reg));
    this.#emit(a64.cset(dst as Reg, CONDITIONS[cond]));
  }

  branchIf(cond: Condition, a: Register, b: Register, label: Label): void {
    this.#emit(a64.cmp_reg(a as Reg, b as Reg));
    this.asm.b_cond(CONDITIONS[cond], label);
  }

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

  jumpRegister(target: Register): void {
    this.#emit(a64.br(target as Reg));
  }

  branchIfZero(a: Register, label: Label): void {
    this.asm.cbz(a as Reg, label);
  }

  branchIfNonZero(a: Register, label: Label): void {
    this.asm.cbnz(a as Reg, label);
  }

  branchIfBitSet(a: Register, bit: number, label: Label): void {
    this.asm.tbnz(a as Reg, bit, label);
  }

  branchIfBitClear(a: Register, bit: number, label: Label): void {
    this.asm.tbz(a as Reg, bit, label);
  }

  select(cond: Condition, dst: Register, a: Register, b: Register, ifTrue: Register, ifFalse: Register): void {
    this.#emit(a64.cmp_reg(a as Reg, b as Reg));
    this.#emit(a64.csel(dst as Reg, ifTrue as Reg, ifFalse as Reg, CONDITIONS[cond]));
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): number {
    this.asm.bl(label);
    return this.size;
  }

  callAddress(address: bigint): number {
    this.moveImmediate(TEMP, address);
    this.#emit(a64.blr(TEMP));
    return this.size;
  }

  callRegister(target: Register): number {
    this.#emit(a64.blr(target as Reg));
    return this.size;
  }

  /** movz x16 and three movk (every 16-bit chunk, even zeros), then blr x16: always 20 bytes. */
  callPatchable(address: bigint): PatchableCall {
    let at = 0;
    this.asm.withoutIslands(20, () => {
      at = this.size;
      for (const word of patchableWords(address)) this.#emit(word);
      this.#emit(a64.blr(TEMP));
    });
    return { at, length: 20, returnOffset: this.size };
  }

  patchCall(code: Uint8Array, site: PatchableCall, address: bigint): void {
    const first = code[site.at + 3]! << 24 | code[site.at + 2]! << 16 | code[site.at + 1]! << 8 | code[site.at]!;
    if (((first & 0xffe0001f) >>> 0) !== a64.movz(TEMP, 0)) {
      throw new Error(`patchCall: no patchable call at offset ${site.at} (expected movz x16 there)`);
    }
    patchableWords(address).forEach((word, i) => code.set(wordBytes(word), site.at + 4 * i));
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

  loadIndexed(dst: Register, base: Register, index: Register, offset = 0): void {
    this.#emit(a64.ldr_reg(dst as Reg, this.#indexBase(base, index, offset), index as Reg, 3));
  }

  storeIndexed(src: Register, base: Register, index: Register, offset = 0): void {
    this.#emit(a64.str_reg(src as Reg, this.#indexBase(base, index, offset), index as Reg, 3));
  }

  /** The register-offset class has no displacement: base + offset goes into x17 first when offset != 0. */
  #indexBase(base: Register, index: Register, offset: number): Reg {
    if (index === Reg.sp) throw new RangeError('loadIndexed/storeIndexed: the index cannot be sp (in the Rm field 31 is xzr)');
    if (offset === 0) return base as Reg;
    if (isAddImmediate(offset)) this.#emit(a64.add_imm(TEMP2, base as Reg, offset));
    else if (isAddImmediate(-offset)) this.#emit(a64.sub_imm(TEMP2, base as Reg, -offset));
    else {
      this.moveImmediate(TEMP2, BigInt(offset));
      if (base === Reg.sp) {
        this.#emit(a64.mov_reg(TEMP, Reg.sp));
        this.#emit(a64.add_reg(TEMP2, TEMP, TEMP2));
      } else {
        this.#emit(a64.add_reg(TEMP2, base as Reg, TEMP2));
      }
    }
    return TEMP2;
  }

  loadLabelAddress(dst: Register, label: Label): void {
    this.asm.adr(dst as Reg, label);
  }

  loadSlot(dst: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    this.load(dst, Reg.fp, framePresent(frame, 'loadSlot').slotOffset(slot));
  }

  storeSlot(src: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    this.store(src, Reg.fp, framePresent(frame, 'storeSlot').slotOffset(slot));
  }

  /** x16 = base + offset, for offsets no load or store can hold (base may be sp). */
  #address(base: Register, offset: number): void {
    this.moveImmediate(TEMP, BigInt(offset));
    if (base === Reg.sp) {
      this.#emit(a64.add_imm(TEMP2, Reg.sp, 0));
      this.#emit(a64.add_reg(TEMP, TEMP2, TEMP));
    } else {
      this.#emit(a64.add_reg(TEMP, base as Reg, TEMP));
    }
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

/** movz x16, #c0; movk x16, #c1, lsl 16; movk #c2, lsl 32; movk #c3, lsl 48: all four, whatever the chunks. */
function patchableWords(address: bigint): number[] {
  const v = BigInt.asUintN(64, address);
  const chunk = (k: number): number => Number((v >> BigInt(16 * k)) & 0xffffn);
  return [a64.movz(TEMP, chunk(0), 0), a64.movk(TEMP, chunk(1), 16), a64.movk(TEMP, chunk(2), 32), a64.movk(TEMP, chunk(3), 48)];
}

function wordBytes(word: number): number[] {
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff];
}

/** The frame to use, or an error: slots and epilogues exist only after a prologue. */
function framePresent(frame: Frame | undefined, method: string): Frame {
  if (frame === undefined) throw new Error(`${method}: no frame (call prologue first, or pass the Frame it returned)`);
  return frame;
}
