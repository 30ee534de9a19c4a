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
import { todo } from '#native/todo.ts';
// TODO: replace every todo(...) with the instructions, using your chapter 03 encoders (a64.*)
//       and emitting through this.#emit. move and add are worked examples; size, labels, comment, finish
//       and listing are given. Labels and branches need assembler.ts first. Book: book/04-assembler.md.

const { Reg } = a64;
type Reg = a64.Reg;

/** The masm's own temporaries (IP0 and IP1 in the ABI): in none of the role lists. */
const TEMP = Reg.x16;

/** The condition code for `cond`, as the hardware numbers it. */
export function conditionCode(cond: Condition): a64.Cond {
  // TODO: a Record<Condition, a64.Cond> table (lt/le/gt/ge signed; ult/ule/ugt/uge unsigned: lo, ls, hi, hs).
  return todo('conditionCode for AArch64');
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
    // TODO: build the frame with new FrameLayout(slots, saved, ROLES.calleeSaved) (it checks the arguments and knows the offsets),
    //       keep it as the default frame, emit the instructions, return it.
    return todo('MacroAssemblerArm64.prologue');
  }

  epilogue(frame: Frame | undefined = this.#frame): void {
    // TODO: restore frame.saved from frame.savedOffset(i), then undo the prologue and return. Without a frame: framePresent tells the caller to call prologue first.
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

  /** There is no remainder instruction: a - (a / b) * b, which is one msub. */
  rem(dst: Register, a: Register, b: Register): void {
    // TODO: There is no remainder instruction: a - (a / b) * b, which is one msub (through x16).
    todo('MacroAssemblerArm64.rem');
  }

  /** sdiv takes about as long for small operands as a 32-bit divide would: div and rem as they are. */
  divFast(dst: Register, a: Register, b: Register): void {
    this.div(dst, a, b);
  }

  remFast(dst: Register, a: Register, b: Register): void {
    this.rem(dst, a, b);
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
    todo('MacroAssemblerArm64.neg');
  }

  not(dst: Register, a: Register): void {
    todo('MacroAssemblerArm64.not');
  }

  addScaled(dst: Register, a: Register, b: Register, scale: 1 | 2 | 4 | 8, offset = 0): void {
    // TODO: add dst, a, b, lsl #log2(scale), then the offset (addImmediate); b cannot be sp.
    todo('MacroAssemblerArm64.addScaled');
  }

  multiplyAdd(dst: Register, a: Register, b: Register, c: Register): void {
    // TODO: madd dst, a, b, c.
    todo('MacroAssemblerArm64.multiplyAdd');
  }

  multiplySub(dst: Register, a: Register, b: Register, c: Register): void {
    // TODO: msub dst, a, b, c.
    todo('MacroAssemblerArm64.multiplySub');
  }

  mulHigh(dst: Register, a: Register, b: Register): void {
    // TODO: smulh dst, a, b.
    todo('MacroAssemblerArm64.mulHigh');
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

  jumpRegister(target: Register): void {
    // TODO: br xn.
    todo('MacroAssemblerArm64.jumpRegister');
  }

  branchIfZero(a: Register, label: Label): void {
    // TODO: cbz, through this.asm so that a far label is reached.
    todo('MacroAssemblerArm64.branchIfZero');
  }

  branchIfNonZero(a: Register, label: Label): void {
    // TODO: cbnz, through this.asm.
    todo('MacroAssemblerArm64.branchIfNonZero');
  }

  branchIfBitSet(a: Register, bit: number, label: Label): void {
    // TODO: tbnz, through this.asm (±32 KiB: the assembler reaches further).
    todo('MacroAssemblerArm64.branchIfBitSet');
  }

  branchIfBitClear(a: Register, bit: number, label: Label): void {
    // TODO: tbz, through this.asm.
    todo('MacroAssemblerArm64.branchIfBitClear');
  }

  select(cond: Condition, dst: Register, a: Register, b: Register, ifTrue: Register, ifFalse: Register): void {
    // TODO: cmp a, b; csel dst, ifTrue, ifFalse, cond.
    todo('MacroAssemblerArm64.select');
  }

  // ── calls ──────────────────────────────────────────────────────────────────────
  call(label: Label): number {
    // TODO: emit the call and return the offset just after it (this.size): the return offset.
    return todo('MacroAssemblerArm64.call');
  }

  callAddress(address: bigint): number {
    // TODO: the address into the internal register, a call through it; return the offset after the call.
    return todo('MacroAssemblerArm64.callAddress');
  }

  callRegister(target: Register): number {
    // TODO: a call through the register; return the offset after the call.
    return todo('MacroAssemblerArm64.callRegister');
  }

  /** movz x16 and three movk (every 16-bit chunk, even zeros), then blr x16: always 20 bytes. */
  callPatchable(address: bigint): PatchableCall {
    // TODO: patchableWords(address) then blr x16, inside this.asm.withoutIslands(20, …) so that no island splits it.
    return todo('MacroAssemblerArm64.callPatchable');
  }

  patchCall(code: Uint8Array, site: PatchableCall, address: bigint): void {
    // TODO: check that a movz x16 starts at site.at, then overwrite the four words with patchableWords(address).
    todo('MacroAssemblerArm64.patchCall');
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

  loadIndexed(dst: Register, base: Register, index: Register, offset = 0): void {
    // TODO: ldr dst, [base, index, lsl #3] with base + offset in x17 first when offset != 0 (#indexBase).
    todo('MacroAssemblerArm64.loadIndexed');
  }

  storeIndexed(src: Register, base: Register, index: Register, offset = 0): void {
    // TODO: str src, [base, index, lsl #3].
    todo('MacroAssemblerArm64.storeIndexed');
  }

  /** The register-offset class has no displacement: base + offset goes into x17 first when offset != 0. */
  #indexBase(base: Register, index: Register, offset: number): Reg {
    // TODO: refuse sp as index; offset 0: base itself; else x17 = base + offset (add or sub immediate, or a constant and an add, through x16 when base is sp).
    return todo('MacroAssemblerArm64.#indexBase');
  }

  loadLabelAddress(dst: Register, label: Label): void {
    // TODO: this.asm.adr: adr dst, label (imm21, a fixup like a branch's).
    todo('MacroAssemblerArm64.loadLabelAddress');
  }

  loadSlot(dst: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    // TODO: a load from fp + frame.slotOffset(slot) (the default frame when none is given).
    todo('MacroAssemblerArm64.loadSlot');
  }

  storeSlot(src: Register, slot: number, frame: Frame | undefined = this.#frame): void {
    // TODO: a store to fp + frame.slotOffset(slot).
    todo('MacroAssemblerArm64.storeSlot');
  }

  /** x16 = base + offset, for offsets no load or store can hold (base may be sp). */
  #address(base: Register, offset: number): void {
    todo('MacroAssemblerArm64.#address');
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

/** movz x16, #c0; movk x16, #c1, lsl 16; movk #c2, lsl 32; movk #c3, lsl 48: all four, whatever the chunks. */
function patchableWords(address: bigint): number[] {
  // TODO: movz x16 with chunk 0, then movk x16 with chunks 1, 2, 3 (lsl 16, 32, 48): four words even for zero chunks.
  return todo('patchableWords');
}

function wordBytes(word: number): number[] {
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff];
}

/** The frame to use, or an error: slots and epilogues exist only after a prologue. */
function framePresent(frame: Frame | undefined, method: string): Frame {
  if (frame === undefined) throw new Error(`${method}: no frame (call prologue first, or pass the Frame it returned)`);
  return frame;
}
