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
  prologue(slots: number, saved?: readonly Register[]): void;
  /** Ends a function: restores what prologue saved and returns. The result is in regs.result. */
  epilogue(): void;

  // ── moves ──────────────────────────────────────────────────────────────────────
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
  and(dst: Register, a: Register, b: Register): void;
  or(dst: Register, a: Register, b: Register): void;
  xor(dst: Register, a: Register, b: Register): void;
  /** Shifts by b & 63 (both ISAs mask the count to 6 bits for 64-bit shifts). */
  shl(dst: Register, a: Register, b: Register): void;
  sar(dst: Register, a: Register, b: Register): void;
  shr(dst: Register, a: Register, b: Register): void;
  neg(dst: Register, a: Register): void;
  not(dst: Register, a: Register): void;

  // ── compare and branch ─────────────────────────────────────────────────────────
  /** dst = (a cond b) ? 1 : 0 */
  setIf(cond: Condition, dst: Register, a: Register, b: Register): void;
  /** Branches to `label` if a cond b. */
  branchIf(cond: Condition, a: Register, b: Register, label: Label): void;
  /** Branches to `label` if a cond value (a small immediate; larger ones go through a scratch register). */
  branchIfImmediate(cond: Condition, a: Register, value: number, label: Label): void;
  jump(label: Label): void;

  // ── calls ──────────────────────────────────────────────────────────────────────
  /** A direct call to code in the same buffer (a compiled function), bound now or later. */
  call(label: Label): void;
  /** A call to an absolute address (a runtime function, a koffi callback). */
  callAddress(address: bigint): void;
  /** A call through a register holding an address. */
  callRegister(target: Register): void;
  /** Returns without an epilogue (for leaf code that set up no frame). */
  ret(): void;

  // ── memory ─────────────────────────────────────────────────────────────────────
  /** dst = 64-bit load from [base + offset]. */
  load(dst: Register, base: Register, offset: number): void;
  /** 64-bit store of src to [base + offset]. */
  store(src: Register, base: Register, offset: number): void;
  /** dst = stack slot i of the current frame. */
  loadSlot(dst: Register, slot: number): void;
  storeSlot(src: Register, slot: number): void;

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
