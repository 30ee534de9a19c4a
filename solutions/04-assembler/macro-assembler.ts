/**
 * Chapter 04: the MacroAssembler interface.
 *
 * Everything above the assembler (the template JIT of chapter 07, the optimizing backend of
 * chapter 09, exception stubs, GC barriers) emits code through this interface and never
 * touches an ISA. `MacroAssemblerX64` and `MacroAssemblerArm64` implement it, listing the
 * same methods in the same order, so they can be read side by side.
 *
 * Registers are the ISA's own numbers, but code above the assembler names them only by
 * role, through `masm.regs`: where arguments arrive, where the result goes, which
 * registers are free to clobber and which survive a call.
 *
 * All values are 64-bit. Conditions compare signed 64-bit integers unless named `u…`.
 */
import type { Arch } from '#native/arch.ts';

/** A register number of the target ISA (x86-64: 0 rax … 15 r15; AArch64: 0 x0 … 30 x30). */
export type Register = number;

/** Comparison conditions, ISA-neutral. `lt`, `le`, `gt`, `ge` are signed; `ult`… unsigned. */
export type Condition = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'ult' | 'ule' | 'ugt' | 'uge';

/**
 * The condition that holds exactly when `cond` does not, for any operands: the pairs the
 * hardware encodes as `cc ^ 1` (eq/ne, lt/ge, le/gt, ult/uge, ule/ugt). `lt` becomes `ge`,
 * not `gt`: negating is not swapping the operands.
 */
export function negate(cond: Condition): Condition {
  const opposite: Record<Condition, Condition> = {
    eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', le: 'gt', gt: 'le', ult: 'uge', uge: 'ult', ule: 'ugt', ugt: 'ule',
  };
  return opposite[cond];
}

/** A position in the code, bound once, referenced any number of times before or after. */
export interface Label {
  /** The offset it is bound to, or undefined while unbound. */
  readonly offset: number | undefined;
  /** A name for listings and error messages. */
  readonly name: string;
}

/**
 * The registers by role, per ISA. Besides these, each MacroAssembler keeps internal registers
 * for itself, in none of the lists (x86-64: r11; AArch64: x16, x17): code above the assembler
 * never keeps a value in them. Every method changes only its dst, the flags and those internal
 * registers. x86-64's idiv needs rax and rdx, and its shifts need rcx: div, rem, shl, sar and
 * shr borrow them and put them back, so dst, a and b may be any registers, rax, rdx and rcx
 * included, and a value kept in rax, rdx or rcx survives them.
 */
export interface RegisterRoles {
  /** Integer argument registers, in order (System V: rdi, rsi, rdx, rcx, r8, r9; AAPCS64: x0–x7). */
  readonly args: readonly Register[];
  /** Where a function's result is returned (rax; x0). */
  readonly result: Register;
  /**
   * Registers code above the assembler may clobber freely between calls, in addition to
   * args and result. The assembler never uses these itself.
   */
  readonly scratch: readonly Register[];
  /** Registers a callee must preserve; a function that uses one saves it in its prologue. */
  readonly calleeSaved: readonly Register[];
  /**
   * Registers the VM reserves for itself in compiled code (the context block, …): callee-saved
   * in the ABI, so an entry stub from TypeScript saves them, but in neither `scratch` nor
   * `allocatable`, so no register allocator hands them out.
   */
  readonly pinned: readonly Register[];
  /** What a register allocator may use: args, result, scratch and calleeSaved, minus pinned. */
  readonly allocatable: readonly Register[];
  /** The frame pointer (rbp; x29): prologue points it at the saved frame pointer. */
  readonly fp: Register;
  /** The stack pointer (rsp; sp). Usable in move, addImmediate, and as the base of load/store. */
  readonly sp: Register;
}

/**
 * One function's frame, made by `prologue` and handed to `epilogue`, `loadSlot` and
 * `storeSlot`, so that a second function can be emitted while the first is unfinished.
 *   [fp + 8]             return address (x86-64) / the caller's lr (AArch64)
 *   [fp]                 the caller's fp
 *   [fp - 8 (i + 1)]     saved[i]
 *   [fp - 8 (k + i + 1)] slot i        (k = saved.length)
 * `size` (what sp moves below fp) is 8 (k + slots) rounded up to a multiple of 16.
 */
export interface Frame {
  readonly slots: number;
  readonly saved: readonly Register[];
  readonly size: number;
  /** The fp-relative offset of slot i (0 <= i < slots), for stack maps and unwind tables. */
  slotOffset(slot: number): number;
  /** The fp-relative offset where saved[index] is kept. */
  savedOffset(index: number): number;
}

/** A call site of fixed length whose target can be changed later with `patchCall`. */
export interface PatchableCall {
  /** Offset of the first byte of the sequence. */
  readonly at: number;
  /** Its length in bytes (the same for every target). */
  readonly length: number;
  /** The return offset: just after the call, what the callee's return address points at. */
  readonly returnOffset: number;
}

/** A line of a listing: offset, bytes, capstone's disassembly and the comment given when emitted. */
export interface ListingLine {
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly comment?: string;
}

export interface MacroAssembler {
  readonly arch: Arch;
  readonly regs: RegisterRoles;
  /** Bytes emitted so far (the offset of the next instruction). */
  readonly size: number;

  // ── labels ─────────────────────────────────────────────────────────────────────
  newLabel(name?: string): Label;
  /** Binds `label` here and patches every branch already aimed at it. Binding twice is an error. */
  bind(label: Label): void;

  // ── frames ─────────────────────────────────────────────────────────────────────
  /**
   * Starts a function: saves the frame pointer (and link register), sets up the frame,
   * saves `saved` callee-saved registers, and reserves `slots` 8-byte stack slots,
   * keeping sp 16-byte aligned. Slot i is addressed by loadSlot/storeSlot.
   */
  prologue(slots: number, saved?: readonly Register[]): Frame;
  /**
   * Ends a function: restores what prologue saved and returns. The result is in regs.result.
   * Without `frame`, the frame of the latest prologue.
   */
  epilogue(frame?: Frame): void;

  // ── moves ──────────────────────────────────────────────────────────────────────
  /** dst = src; either may be regs.sp or regs.fp (to set up or tear down a frame by hand). */
  move(dst: Register, src: Register): void;
  /** Loads any 64-bit constant, with the shortest sequence that holds it. */
  moveImmediate(dst: Register, value: bigint): void;

  // ── arithmetic: dst = a op b (dst may equal a or b) ────────────────────────────
  add(dst: Register, a: Register, b: Register): void;
  addImmediate(dst: Register, a: Register, value: number): void;
  sub(dst: Register, a: Register, b: Register): void;
  mul(dst: Register, a: Register, b: Register): void;
  /**
   * Signed division truncating toward zero, and its remainder (sign of the dividend).
   * The hardware's behaviour for b == 0 and for INT64_MIN / -1 differs between ISAs
   * (x86-64 faults, AArch64 does not); callers must rule out both cases first.
   */
  div(dst: Register, a: Register, b: Register): void;
  rem(dst: Register, a: Register, b: Register): void;
  /**
   * div and rem with a test at run time, as optimizing compilers emit them: where a and b
   * both lie in 0 .. 2^32 - 1, x86-64 divides 32 bits wide (`div r32`, far quicker than the
   * 64-bit `idiv` on most cores); other operands, and AArch64, take div and rem. Unlike div,
   * any b but 0 is allowed: INT64_MIN / -1 is INT64_MIN and INT64_MIN % -1 is 0 (the
   * wrapping answers, which AArch64's sdiv gives), and x86-64 tests for -1 off the fast path.
   */
  divFast(dst: Register, a: Register, b: Register): void;
  remFast(dst: Register, a: Register, b: Register): void;
  and(dst: Register, a: Register, b: Register): void;
  or(dst: Register, a: Register, b: Register): void;
  xor(dst: Register, a: Register, b: Register): void;
  /** Shifts by b & 63 (both ISAs mask the count to 6 bits for 64-bit shifts). */
  shl(dst: Register, a: Register, b: Register): void;
  sar(dst: Register, a: Register, b: Register): void;
  shr(dst: Register, a: Register, b: Register): void;
  /**
   * Shifts by a count known while compiling, 0..63: one instruction with the count in it
   * (x86-64 needs neither rcx nor a save; AArch64's lsl, asr and lsr by immediate).
   */
  shlImmediate(dst: Register, a: Register, count: number): void;
  sarImmediate(dst: Register, a: Register, count: number): void;
  shrImmediate(dst: Register, a: Register, count: number): void;
  neg(dst: Register, a: Register): void;
  not(dst: Register, a: Register): void;
  /** dst = a + b * scale + offset, in one instruction where the ISA has one (lea). b is never sp. */
  addScaled(dst: Register, a: Register, b: Register, scale: 1 | 2 | 4 | 8, offset?: number): void;
  /** dst = c + a * b (low 64 bits). */
  multiplyAdd(dst: Register, a: Register, b: Register, c: Register): void;
  /** dst = c - a * b (low 64 bits). */
  multiplySub(dst: Register, a: Register, b: Register, c: Register): void;
  /** dst = the high 64 bits of the signed 128-bit product a * b. */
  mulHigh(dst: Register, a: Register, b: Register): void;

  // ── compare and branch ─────────────────────────────────────────────────────────
  /** dst = (a cond b) ? 1 : 0 */
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void;
  /** Branches to `label` if a cond b. */
  branchIf(cond: Condition, a: Register, b: Register, label: Label): void;
  /** Branches to `label` if a cond value (a small immediate; larger ones go through a scratch register). */
  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void;
  jump(label: Label): void;
  /** Jumps to the address in `target`. */
  jumpRegister(target: Register): void;
  /** Branches to `label` if a == 0. */
  branchIfZero(a: Register, label: Label): void;
  /** Branches to `label` if a != 0. */
  branchIfNonZero(a: Register, label: Label): void;
  /** Branches to `label` if bit `bit` (0..63) of a is 1. */
  branchIfBitSet(a: Register, bit: number, label: Label): void;
  /** Branches to `label` if bit `bit` (0..63) of a is 0. */
  branchIfBitClear(a: Register, bit: number, label: Label): void;
  /** dst = (a cond b) ? ifTrue : ifFalse, without a branch. dst may be any of the four. */
  select(cond: Condition, dst: Register, a: Register, b: Register, ifTrue: Register, ifFalse: Register): void;

  // ── calls ──────────────────────────────────────────────────────────────────────
  /**
   * A direct call to code in the same buffer (a compiled function), bound now or later.
   * Every call returns its return offset: the offset just after the call instruction, where
   * the callee returns to (what stack maps and unwind tables are keyed by).
   */
  call(label: Label): number;
  /** A call to an absolute address (a runtime function, a koffi callback). */
  callAddress(address: bigint): number;
  /** A call through a register holding an address. */
  callRegister(target: Register): number;
  /** A call to `address` whose target `patchCall` can change later: the same length for any address. */
  callPatchable(address: bigint): PatchableCall;
  /** Rewrites the target of a patchable call in `code` (finished code, or a writable copy of it). */
  patchCall(code: Uint8Array, site: PatchableCall, address: bigint): void;
  /** Returns without an epilogue (for leaf code that set up no frame). */
  ret(): void;

  // ── memory ─────────────────────────────────────────────────────────────────────
  /** dst = 64-bit load from [base + offset]. */
  load(dst: Register, base: Register, offset: number): void;
  /** 64-bit store of src to [base + offset]. */
  store(src: Register, base: Register, offset: number): void;
  /** dst = 64-bit load from [base + index * 8 + offset] (index is never sp). */
  loadIndexed(dst: Register, base: Register, index: Register, offset?: number): void;
  /** 64-bit store of src to [base + index * 8 + offset]. */
  storeIndexed(src: Register, base: Register, index: Register, offset?: number): void;
  /** dst = the address of `label` (lea rip-relative; adr), bound now or later. */
  loadLabelAddress(dst: Register, label: Label): void;
  /** dst = stack slot i of `frame` (by default the frame of the latest prologue). */
  loadSlot(dst: Register, slot: number, frame?: Frame): void;
  storeSlot(src: Register, slot: number, frame?: Frame): void;

  // ── output ─────────────────────────────────────────────────────────────────────
  /** Attaches a comment to the next instruction emitted (shown in listings). */
  comment(text: string): void;
  /** A trap instruction (ud2; udf #0): code that must never run. */
  trap(): void;
  /** The finished code. An unbound label that is referenced is an error naming it. */
  finish(): Uint8Array;
  /** Offset, bytes, disassembly and comment of every instruction emitted, as lines. */
  listing(): ListingLine[];
}
