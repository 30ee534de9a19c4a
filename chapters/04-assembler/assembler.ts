/**
 * Chapter 04: labels and fixups on top of chapter 03's CodeBuffer and encoders.
 *                                                              Book: book/04-assembler.md
 * YOUR TASK: the TODOs below, in this order: `branchTo` and `#distance` (backward branches
 * work), `bind` (forward branches work), `finish`, then the branch methods of X64Assembler
 * and Arm64Assembler, then `comment` and `listing`. `jmp` and `b` are worked examples.
 * The labels, the table of branch fields, the buffer with its patches and `formatListing`
 * are given.
 *
 * A label is a position in the code that may not be known yet. A branch to a label that is
 * already bound (a backward branch) is encoded at once. A branch to a label that is not
 * bound yet (a forward branch) is emitted with a displacement of 0 and recorded as a
 * *fixup*: where the instruction starts, how long it is, which label it aims at, and how to
 * encode it again. When the label is bound, every fixup aimed at it is re-encoded with the
 * real distance and laid over the placeholder.
 *
 *   const asm = new X64Assembler();
 *   const done = asm.newLabel('done');
 *   asm.jcc(x64.Cond.e, done);       // 0f 84 00 00 00 00, a fixup at offset 0
 *   asm.emit(x64.addq_ri(Reg.rax, 1));
 *   asm.bind(done);                  // the fixup becomes 0f 84 04 00 00 00
 *
 * Displacements are counted from different places on the two ISAs:
 *   x86-64   from the END of the branch (rel8, rel32): the address of the next instruction
 *   AArch64  from the branch ITSELF, in units of 4 bytes (imm14, imm19, imm26)
 *
 * `CodeBuffer` only appends, so a patch does not overwrite bytes in place: it is kept as
 * {at, bytes} and laid over a copy of the buffer by `code()`, `finish()` and `listing()`.
 */
import * as x64 from '#ch03/x64.ts';
import * as a64 from '#ch03/arm64.ts';
import { CodeBuffer } from '#ch03/code-buffer.ts';
import { disassemble, hex } from '#native/disasm.ts';
import { todo } from '#native/todo.ts';
import type { Arch } from '#native/arch.ts';
import type { Label, ListingLine, Register } from './macro-assembler.ts';

/** A label: unbound until `bind` gives it an offset. Create them with `newLabel`. */
export class AsmLabel implements Label {
  readonly name: string;
  #offset: number | undefined = undefined;
  /** The assembler that created it: a label of another buffer cannot be bound or aimed at. */
  readonly owner: object;

  constructor(name: string, owner: object) {
    this.name = name;
    this.owner = owner;
  }

  get offset(): number | undefined {
    return this.#offset;
  }

  /** Used by `Assembler.bind` only. */
  setOffset(offset: number): void {
    this.#offset = offset;
  }
}

/**
 * The displacement fields of branch instructions. `bits` wide and signed, counting units of
 * `scale` bytes, measured from the start of the branch or from its end.
 */
export const BRANCH_FIELDS = {
  rel8: { bits: 8, scale: 1, fromEnd: true },
  rel32: { bits: 32, scale: 1, fromEnd: true },
  imm14: { bits: 14, scale: 4, fromEnd: false },
  imm19: { bits: 19, scale: 4, fromEnd: false },
  imm26: { bits: 26, scale: 4, fromEnd: false },
} as const;
export type BranchField = keyof typeof BRANCH_FIELDS;

/** The smallest and largest distance in bytes a field can hold. */
export function fieldRange(field: BranchField): { min: number; max: number } {
  const { bits, scale } = BRANCH_FIELDS[field];
  return { min: -(2 ** (bits - 1)) * scale, max: (2 ** (bits - 1) - 1) * scale };
}

/** A branch emitted before its label was bound. */
interface Fixup {
  readonly label: AsmLabel;
  /** Offset of the first byte of the branch instruction. */
  readonly at: number;
  /** Its length in bytes (2, 5 or 6 on x86-64; always 4 on AArch64). */
  readonly length: number;
  readonly field: BranchField;
  /** The mnemonic, for error messages: `jne`, `b.lt`, `tbz`. */
  readonly insn: string;
  /** Encodes the same instruction with a real distance (as the encoder counts it). */
  readonly encode: (distance: number) => readonly number[];
}

/** Emitted code as bytes: x86-64 encoders return byte arrays, AArch64 encoders a word. */
function wordBytes(word: number): number[] {
  return [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff];
}

/**
 * The ISA-neutral part: the buffer, labels, fixups, patches and comments. X64Assembler and
 * Arm64Assembler add the branch instructions of their ISA.
 */
export class Assembler {
  readonly arch: Arch;
  #code = new CodeBuffer();
  #fixups: Fixup[] = [];
  #patches: { at: number; bytes: readonly number[] }[] = [];
  #comments = new Map<number, string>();
  #pendingComment: string | undefined = undefined;
  #labelCount = 0;

  constructor(arch: Arch) {
    this.arch = arch;
  }

  /** Bytes emitted so far: the offset of the next instruction. */
  get size(): number {
    return this.#code.size;
  }

  newLabel(name?: string): AsmLabel {
    this.#labelCount++;
    return new AsmLabel(name ?? `L${this.#labelCount}`, this);
  }

  /**
   * Attaches `text` to the next instruction emitted (several comments are joined with '; ').
   * `emitBytes` moves `#pendingComment` into `#comments` under the instruction's offset.
   */
  comment(text: string): void {
    todo('Assembler.comment');
  }

  /** Appends one instruction's bytes; returns its offset. The pending comment goes with it. */
  emitBytes(bytes: readonly number[]): number {
    const at = this.#code.size;
    if (this.#pendingComment !== undefined) {
      this.#comments.set(at, this.#pendingComment);
      this.#pendingComment = undefined;
    }
    this.#code.emit(bytes);
    return at;
  }

  /**
   * Binds `label` to the current offset and patches every branch already aimed at it:
   * each waiting fixup is re-encoded with the real distance (`#distance`) and pushed onto
   * `#patches` at the offset where the branch starts; then it stops waiting. Binding a
   * label twice, or a label of another assembler (`#own`), is an Error naming the label.
   */
  bind(label: Label): void {
    todo('Assembler.bind');
  }

  /**
   * Emits a branch to `label` whose displacement lives in `field`. `encode(distance)` returns
   * the instruction for a distance counted as its encoder counts it. Bound label: encoded now.
   * Unbound: encoded with 0 and recorded as a fixup, patched when the label is bound.
   */
  protected branchTo(insn: string, label: Label, field: BranchField, encode: (distance: number) => readonly number[]): void {
    todo('Assembler.branchTo');
  }

  /**
   * The distance in bytes from a branch at `at` (of `length` bytes) to the bound `label`,
   * counted as `field` counts it (from the start or the end of the branch); the encoders of
   * chapter 03 take byte distances and do any division by 4 themselves. Out of the field's range
   * (`fieldRange`): a RangeError naming the instruction, the label and the distance.
   */
  #distance(insn: string, label: AsmLabel, field: BranchField, at: number, length: number): number {
    return todo('Assembler.#distance');
  }

  /** Throws unless `label` was made by this assembler (a label of another buffer means nothing here). */
  #own(label: Label, insn: string): AsmLabel {
    if (!(label instanceof AsmLabel) || label.owner !== this) {
      throw new Error(`${insn}: label '${label.name}' was not created by this assembler (use newLabel)`);
    }
    return label;
  }

  /** The code so far with every patch applied. Branches to unbound labels still hold 0. */
  code(): Uint8Array {
    const out = this.#code.bytes();
    for (const patch of this.#patches) out.set(patch.bytes, patch.at);
    return out;
  }

  /**
   * The finished code (`code()`). A fixup still waiting means a branch to a label that was
   * never bound: an Error naming the label (and the branch, and its offset).
   */
  finish(): Uint8Array {
    return todo('Assembler.finish');
  }

  /**
   * Every instruction: offset, bytes, capstone's text, and the comment given before it.
   * Disassemble the patched code with `disassemble(bytes, this.arch)` from native/disasm.ts.
   */
  listing(): ListingLine[] {
    return todo('Assembler.listing');
  }
}

/** x86-64 branches: rel8 or rel32, counted from the end of the instruction. */
export class X64Assembler extends Assembler {
  constructor() {
    super('x64');
  }

  emit(bytes: readonly number[]): number {
    return this.emitBytes(bytes);
  }

  /**
   * jmp to `label`. `size` 'rel8' forces the 2-byte form (a RangeError if the label ends up
   * too far); by default a bound label within reach gets rel8 and anything else rel32.
   */
  jmp(label: Label, size?: 'rel8' | 'rel32'): void {
    const field = size ?? this.#shortIfReachable(label, 2);
    if (field === 'rel8') this.branchTo('jmp', label, 'rel8', (d) => x64.jmp_rel8(d));
    else this.branchTo('jmp', label, 'rel32', (d) => x64.jmp_rel32(d));
  }

  /** jcc to `label`, short or near as for `jmp`. */
  jcc(cc: x64.Cond, label: Label, size?: 'rel8' | 'rel32'): void {
    todo('X64Assembler.jcc');
  }

  /** A forward label could end up anywhere, so it gets rel32; a backward one rel8 if it reaches. */
  #shortIfReachable(label: Label, shortLength: number): 'rel8' | 'rel32' {
    return todo('X64Assembler.#shortIfReachable');
  }

  /** call rel32 to `label`. */
  call(label: Label): void {
    todo('X64Assembler.call');
  }
}

/** AArch64 branches: imm26 (b, bl), imm19 (b.cond, cbz, cbnz), imm14 (tbz, tbnz). */
export class Arm64Assembler extends Assembler {
  constructor() {
    super('arm64');
  }

  emit(word: number): number {
    return this.emitBytes(wordBytes(word));
  }

  b(label: Label): void {
    this.branchTo('b', label, 'imm26', (d) => wordBytes(a64.b(d)));
  }

  bl(label: Label): void {
    todo('Arm64Assembler.bl');
  }

  b_cond(cond: a64.Cond, label: Label): void {
    todo('Arm64Assembler.b_cond');
  }

  cbz(rt: a64.Reg, label: Label): void {
    todo('Arm64Assembler.cbz');
  }

  cbnz(rt: a64.Reg, label: Label): void {
    todo('Arm64Assembler.cbnz');
  }

  tbz(rt: a64.Reg, bit: number, label: Label): void {
    todo('Arm64Assembler.tbz');
  }

  tbnz(rt: a64.Reg, bit: number, label: Label): void {
    todo('Arm64Assembler.tbnz');
  }
}

/** Prologue arguments, for both masms: a slot count, and only callee-saved registers, each once. */
export function checkFrame(slots: number, saved: readonly Register[], calleeSaved: readonly Register[]): void {
  if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`prologue: slots must be an integer >= 0, got ${slots}`);
  for (const r of saved) {
    if (!calleeSaved.includes(r)) throw new RangeError(`prologue: register ${r} is not callee-saved (${calleeSaved.join(', ')})`);
  }
  if (new Set(saved).size !== saved.length) throw new RangeError('prologue: a register is saved twice');
}

/**
 * A listing as text, one instruction a line, comments aligned after the disassembly:
 *   0000  48 89 f8              mov rax, rdi              ; x
 */
export function formatListing(lines: readonly ListingLine[]): string {
  const bytesWidth = Math.max(8, ...lines.map((l) => hex(l.bytes).length));
  const textWidth = Math.max(16, ...lines.map((l) => l.text.length));
  return lines
    .map((l) => {
      const head = `${l.offset.toString(16).padStart(4, '0')}  ${hex(l.bytes).padEnd(bytesWidth)}  `;
      return l.comment === undefined ? `${head}${l.text}`.trimEnd() : `${head}${l.text.padEnd(textWidth)}  ; ${l.comment}`;
    })
    .join('\n');
}
