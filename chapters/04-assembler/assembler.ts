/**
 * Chapter 04: labels and fixups on top of chapter 03's CodeBuffer and encoders.
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
import type { Arch } from '#native/arch.ts';
import type { Frame, Label, ListingLine, Register } from './macro-assembler.ts';
import { todo } from '#native/todo.ts';
// TODO: the TODOs below, in this order: branchTo and #distance (backward branches work), bind and retarget
//       (forward branches work), finish, the branch methods of X64Assembler and Arm64Assembler (jmp and b are worked
//       examples), comment and listing, FrameLayout, then the AArch64 branch relaxation (#conditional, islands).
//       The labels, the table of branch fields, the buffer with its patches and formatListing are given. Book: book/04-assembler.md.

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

  /** The branches emitted before the label was bound, each patched by `bind` (kept per label). */
  readonly fixups: Fixup[] = [];
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
  imm21: { bits: 21, scale: 1, fromEnd: false },
} as const;
export type BranchField = keyof typeof BRANCH_FIELDS;

/** The smallest and largest distance in bytes a field can hold. */
export function fieldRange(field: BranchField): { min: number; max: number } {
  const { bits, scale } = BRANCH_FIELDS[field];
  return { min: -(2 ** (bits - 1)) * scale, max: (2 ** (bits - 1) - 1) * scale };
}

/** A branch emitted before its label was bound. */
export interface Fixup {
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
  /** Set once the fixup is patched: by `bind`, or earlier when it is sent to a veneer. */
  done: boolean;
}

/** The most bytes given to capstone at once (it fails on much larger inputs). */
const LISTING_PIECE = 16384;

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
  /** Labels that branches aim at but that are not bound yet (their fixups wait on them). */
  #waiting = new Set<AsmLabel>();
  #patches: { at: number; bytes: readonly number[] }[] = [];
  #comments = new Map<number, string>();
  /** Where each instruction starts, so that a long listing can be disassembled in pieces. */
  #starts: number[] = [];
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

  /** Attaches `text` to the next instruction emitted (several comments are joined). */
  comment(text: string): void {
    // TODO: join with '; ' if a comment is already pending; emitBytes hands it to the next instruction.
    todo('Assembler.comment');
  }

  /** Appends one instruction's bytes; returns its offset. The pending comment goes with it. */
  emitBytes(bytes: readonly number[]): number {
    this.beforeInstruction(bytes.length);
    const at = this.#code.size;
    this.#starts.push(at);
    if (this.#pendingComment !== undefined) {
      this.#comments.set(at, this.#pendingComment);
      this.#pendingComment = undefined;
    }
    this.#code.emit(bytes);
    return at;
  }

  /** Binds `label` to the current offset and patches every branch already aimed at it. */
  bind(label: Label): void {
    // TODO: refuse a label bound twice or of another assembler (#own); set its offset; patch ONLY its own fixups
    //       (label.fixups, each with this.retarget(fixup, here) unless done), then it no longer waits (#waiting).
    todo('Assembler.bind');
  }

  /** Patches `fixup` to reach `target` (its label, or a veneer on the way to it) and marks it done. */
  protected retarget(fixup: Fixup, target: number): void {
    // TODO: re-encode the fixup for the distance to target (#distance), check the length is unchanged, push {at, bytes} onto #patches, mark it done.
    todo('Assembler.retarget');
  }

  /**
   * Emits a branch to `label` whose displacement lives in `field`. `encode(distance)` returns
   * the instruction for a distance counted as its encoder counts it. Bound label: encoded now.
   * Unbound: encoded with 0 and recorded as a fixup, patched when the label is bound.
   */
  protected branchTo(insn: string, label: Label, field: BranchField, encode: (distance: number) => readonly number[]): Fixup | undefined {
    // TODO: bound label: encode now (call this.beforeInstruction(length) first, then measure from this.size).
    //       Unbound: emit encode(0), record a Fixup on the label (label.fixups) and in #waiting, and return it.
    return todo('Assembler.branchTo');
  }

  /** Called before every instruction is appended; AArch64 emits veneer islands from here. */
  protected beforeInstruction(_length: number): void {}

  /** Runs `emit` with the pending comment set aside, so that it stays for the caller's next instruction. */
  protected aside(emit: () => void): void {
    const pending = this.#pendingComment;
    this.#pendingComment = undefined;
    try {
      emit();
    } finally {
      this.#pendingComment = pending;
    }
  }

  /** Appends code that is no instruction of the caller's (a veneer island): it takes no comment. */
  protected emitUncommented(bytes: readonly number[], comment?: string): number {
    const at = this.#code.size;
    this.#starts.push(at);
    if (comment !== undefined) this.#comments.set(at, comment);
    this.#code.emit(bytes);
    return at;
  }

  /** The distance from a branch at `at` (of `length` bytes) to `target`, checked against `field`. */
  #distance(insn: string, label: AsmLabel, field: BranchField, at: number, length: number, target: number): number {
    // TODO: target minus the origin (the start, or the end when the field counts fromEnd); out of fieldRange(field):
    //       a RangeError naming insn, the label's name and the distance.
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

  /** The finished code. A branch to a label that was never bound is an error naming it. */
  finish(): Uint8Array {
    // TODO: any label still in #waiting: an Error naming it (and a branch still aiming at it, with its offset); else code().
    return todo('Assembler.finish');
  }

  /** Every instruction: offset, bytes, capstone's text, and the comment given before it. */
  listing(): ListingLine[] {
    // TODO: disassemble the patched code in pieces of at most LISTING_PIECE bytes, each cut where an instruction starts (#starts),
    //       and attach the comment recorded for each offset.
    return todo('Assembler.listing');
  }

  #listPiece(code: Uint8Array, from: number, to: number, lines: ListingLine[]): void {
    // TODO: disassemble(code.subarray(from, to), this.arch); offsets are relative to the piece.
    todo('Assembler.#listPiece');
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
    // TODO: a forward label could end up anywhere: 'rel32'; a bound one 'rel8' if within -128..127 of the END of the 2-byte form.
    return todo('X64Assembler.#shortIfReachable');
  }

  /** call rel32 to `label`. */
  call(label: Label): void {
    todo('X64Assembler.call');
  }

  /** lea dst, [rip + rel32]: the address of `label`, bound now or later. */
  leaLabel(dst: x64.Reg, label: Label): void {
    // TODO: a fixup in the 'rel32' field, encoded with x64.leaq_rip(dst, d).
    todo('X64Assembler.leaLabel');
  }
}

/**
 * AArch64 branches: imm26 (b, bl), imm19 (b.cond, cbz, cbnz), imm14 (tbz, tbnz), and adr.
 *
 * A conditional branch reaches only ±1 MiB (imm19) or ±32 KiB (imm14), so the assembler
 * makes every one reach its label, whatever the distance:
 *   - backward, to a label out of reach: the opposite condition jumps over an unconditional b
 *       b.ne label   becomes   b.eq +8; b label
 *   - forward: the branch is emitted short. If the code grows so far that its label could end
 *     up out of reach, a veneer island is emitted before that happens, and the branch is
 *     pointed at a `b label` (imm26, ±128 MiB) in the island:
 *       b.ne L ... b skip; veneer: b L; skip: ... L:
 */
export class Arm64Assembler extends Assembler {
  /** Forward short branches not yet patched, for the veneer islands. Entries may be done already. */
  #shortFixups: Fixup[] = [];
  /** The offset by which an island must have been emitted (the earliest reach of a short fixup), or Infinity. */
  #deadline = Infinity;
  #inIsland = false;
  /** While > size, no island may be emitted (a sequence of fixed length is being emitted). */
  #noIslandUntil = 0;

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
    // TODO: #conditional, with the condition and its opposite (a64.negate).
    todo('Arm64Assembler.b_cond');
  }

  cbz(rt: a64.Reg, label: Label): void {
    // TODO: #conditional with cbz, and cbnz as the opposite.
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

  /** adr rd, label: the address of `label` (within ±1 MiB; there is no veneer for an address). */
  adr(rd: a64.Reg, label: Label): void {
    // TODO: a fixup in the 'imm21' field, encoded with a64.adr(rd, d). No veneer can help an address: out of range is a RangeError.
    todo('Arm64Assembler.adr');
  }

  /**
   * Emits `length` bytes with `emit` in one piece: no veneer island lands inside them (a
   * patchable call site must keep its fixed shape).
   */
  withoutIslands(length: number, emit: () => void): void {
    // TODO: an island now if one is due within length bytes (beforeInstruction(length)); none until size passes size + length.
    todo('Arm64Assembler.withoutIslands');
  }

  /** A short conditional branch that always reaches `label`; `inverted` is the opposite test. */
  #conditional(insn: string, label: Label, field: 'imm14' | 'imm19', encode: (d: number) => number, inverted: (d: number) => number): void {
    // TODO: bound label beyond the field's reach: the opposite test jumping 8 bytes ahead, then b label.
    //       Otherwise branchTo; a forward fixup joins #shortFixups and may bring #deadline closer (at + fieldRange(field).max).
    todo('Arm64Assembler.#conditional');
  }

  /** Before each instruction: if a pending short branch could soon lose sight of its label, emit an island. */
  protected override beforeInstruction(length: number): void {
    // TODO: nothing inside an island or a withoutIslands sequence. If size plus the instruction, a b, a veneer per pending
    //       branch and some slack reaches #deadline: drop the done fixups, recompute it, and if it is still due emit #island.
    todo('Arm64Assembler.beforeInstruction');
  }

  /** b over the island; then, for each short branch whose reach ends within `window`, a `b label` it is sent to. */
  #island(window: number): void {
    // TODO: set #inIsland and emit #veneers with the pending comment set aside (this.aside), so that it stays for the next real instruction.
    todo('Arm64Assembler.#island');
  }

  #veneers(window: number): void {
    // TODO: b over the island (emitUncommented); for each fixup due within window: retarget it to here, then b to its label.
    todo('Arm64Assembler.#veneers');
  }
}

/** Branches within this many bytes of their limit join an island that is being emitted anyway. */
const ISLAND_WINDOW = 4096;

/** The lowest offset a forward short branch among `fixups` can reach, or Infinity. */
function earliestReach(fixups: readonly Fixup[]): number {
  return todo('earliestReach');
}

/**
 * The frame of one function, the same shape on both ISAs (see `Frame` in macro-assembler.ts).
 * Checks the prologue's arguments: a slot count, and only callee-saved registers, each once.
 */
export class FrameLayout implements Frame {
  readonly slots: number;
  readonly saved: readonly Register[];
  readonly size: number;

  constructor(slots: number, saved: readonly Register[], calleeSaved: readonly Register[]) {
    // TODO: check slots (an integer >= 0) and saved (callee-saved registers, each once): RangeErrors naming prologue;
    //       size is 8 bytes a word for saved + slots, rounded up to a multiple of 16.
    todo('FrameLayout.constructor');
  }

  savedOffset(index: number): number {
    // TODO: -8 (index + 1); an index outside saved is a RangeError.
    return todo('FrameLayout.savedOffset');
  }

  slotOffset(slot: number): number {
    // TODO: below the saved registers: -8 (saved.length + slot + 1); a slot outside 0..slots-1 is a RangeError.
    return todo('FrameLayout.slotOffset');
  }
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
