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

// @book:start fields
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
// @book:end fields

// @book:start fixup
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
// @book:end fixup

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
    this.#pendingComment = this.#pendingComment === undefined ? text : `${this.#pendingComment}; ${text}`;
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
    const own = this.#own(label, 'bind');
    if (own.offset !== undefined) {
      throw new Error(`bind: label '${own.name}' is already bound (at offset ${own.offset}); a label marks one place`);
    }
    own.setOffset(this.size);
    // Only this label's own fixups: binding costs the branches aimed at it, not all of them.
    for (const fixup of own.fixups) if (!fixup.done) this.retarget(fixup, this.size);
    own.fixups.length = 0;
    this.#waiting.delete(own);
  }

  /** Patches `fixup` to reach `target` (its label, or a veneer on the way to it) and marks it done. */
  protected retarget(fixup: Fixup, target: number): void {
    const distance = this.#distance(fixup.insn, fixup.label, fixup.field, fixup.at, fixup.length, target);
    const bytes = fixup.encode(distance);
    if (bytes.length !== fixup.length) {
      throw new Error(`bind: re-encoding ${fixup.insn} for '${fixup.label.name}' gave ${bytes.length} bytes instead of ${fixup.length}`);
    }
    this.#patches.push({ at: fixup.at, bytes });
    fixup.done = true;
  }

  /**
   * Emits a branch to `label` whose displacement lives in `field`. `encode(distance)` returns
   * the instruction for a distance counted as its encoder counts it. Bound label: encoded now.
   * Unbound: encoded with 0 and recorded as a fixup, patched when the label is bound.
   */
  protected branchTo(insn: string, label: Label, field: BranchField, encode: (distance: number) => readonly number[]): Fixup | undefined {
    const own = this.#own(label, insn);
    if (own.offset !== undefined) {
      const length = encode(0).length;
      this.beforeInstruction(length); // a veneer island first, if one is due, so the distance is measured from where the branch lands
      this.emitBytes(encode(this.#distance(insn, own, field, this.size, length, own.offset)));
      return undefined;
    }
    const placeholder = encode(0);
    const at = this.emitBytes(placeholder);
    const fixup: Fixup = { label: own, at, length: placeholder.length, field, insn, encode, done: false };
    own.fixups.push(fixup);
    this.#waiting.add(own);
    return fixup;
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
    const origin = BRANCH_FIELDS[field].fromEnd ? at + length : at;
    const distance = target - origin;
    const { min, max } = fieldRange(field);
    if (distance < min || distance > max) {
      throw new RangeError(
        `${insn} at offset ${at} to label '${label.name}' at offset ${target}: the distance ${distance} bytes ` +
          `does not fit in ${field} (${min}..${max})`,
      );
    }
    return distance;
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
    if (this.#waiting.size > 0) {
      const names = [...this.#waiting].map((l) => `'${l.name}'`);
      const first = [...this.#waiting][0]!.fixups.find((f) => !f.done) ?? [...this.#waiting][0]!.fixups[0]!;
      throw new Error(
        `finish: label${names.length > 1 ? 's' : ''} ${names.join(', ')} never bound ` +
          `(${first.insn} at offset ${first.at} still aims at '${first.label.name}'): call bind(label) where the code should go`,
      );
    }
    return this.code();
  }

  /** Every instruction: offset, bytes, capstone's text, and the comment given before it. */
  listing(): ListingLine[] {
    const code = this.code();
    const lines: ListingLine[] = [];
    // Capstone is given pieces of at most LISTING_PIECE bytes, cut where an instruction starts.
    let from = 0;
    let cut = 0;
    for (const start of [...this.#starts, code.length]) {
      if (start - from > LISTING_PIECE && cut > from) {
        this.#listPiece(code, from, cut, lines);
        from = cut;
      }
      cut = start;
    }
    this.#listPiece(code, from, code.length, lines);
    return lines;
  }

  #listPiece(code: Uint8Array, from: number, to: number, lines: ListingLine[]): void {
    for (const line of disassemble(code.subarray(from, to), this.arch)) {
      const offset = from + line.offset;
      const comment = this.#comments.get(offset);
      lines.push(comment === undefined
        ? { offset, bytes: line.bytes, text: line.text }
        : { offset, bytes: line.bytes, text: line.text, comment });
    }
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
    const insn = `j${x64.COND_NAMES[cc] ?? cc}`;
    const field = size ?? this.#shortIfReachable(label, 2);
    if (field === 'rel8') this.branchTo(insn, label, 'rel8', (d) => x64.jcc_rel8(cc, d));
    else this.branchTo(insn, label, 'rel32', (d) => x64.jcc_rel32(cc, d));
  }

  /** A forward label could end up anywhere, so it gets rel32; a backward one rel8 if it reaches. */
  #shortIfReachable(label: Label, shortLength: number): 'rel8' | 'rel32' {
    if (label.offset === undefined) return 'rel32';
    const distance = label.offset - (this.size + shortLength);
    return distance >= -128 && distance <= 127 ? 'rel8' : 'rel32';
  }

  /** call rel32 to `label`. */
  call(label: Label): void {
    this.branchTo('call', label, 'rel32', (d) => x64.call_rel32(d));
  }

  /** lea dst, [rip + rel32]: the address of `label`, bound now or later. */
  leaLabel(dst: x64.Reg, label: Label): void {
    this.branchTo('lea', label, 'rel32', (d) => x64.leaq_rip(dst, d));
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
    this.branchTo('bl', label, 'imm26', (d) => wordBytes(a64.bl(d)));
  }

  b_cond(cond: a64.Cond, label: Label): void {
    this.#conditional(`b.${a64.COND_NAMES[cond] ?? cond}`, label, 'imm19', (d) => a64.b_cond(cond, d), (d) => a64.b_cond(a64.negate(cond), d));
  }

  cbz(rt: a64.Reg, label: Label): void {
    this.#conditional('cbz', label, 'imm19', (d) => a64.cbz(rt, d), (d) => a64.cbnz(rt, d));
  }

  cbnz(rt: a64.Reg, label: Label): void {
    this.#conditional('cbnz', label, 'imm19', (d) => a64.cbnz(rt, d), (d) => a64.cbz(rt, d));
  }

  tbz(rt: a64.Reg, bit: number, label: Label): void {
    this.#conditional('tbz', label, 'imm14', (d) => a64.tbz(rt, bit, d), (d) => a64.tbnz(rt, bit, d));
  }

  tbnz(rt: a64.Reg, bit: number, label: Label): void {
    this.#conditional('tbnz', label, 'imm14', (d) => a64.tbnz(rt, bit, d), (d) => a64.tbz(rt, bit, d));
  }

  /** adr rd, label: the address of `label` (within ±1 MiB; there is no veneer for an address). */
  adr(rd: a64.Reg, label: Label): void {
    this.branchTo('adr', label, 'imm21', (d) => wordBytes(a64.adr(rd, d)));
  }

  /**
   * Emits `length` bytes with `emit` in one piece: no veneer island lands inside them (a
   * patchable call site must keep its fixed shape).
   */
  withoutIslands(length: number, emit: () => void): void {
    this.beforeInstruction(length);
    this.#noIslandUntil = this.size + length;
    try {
      emit();
    } finally {
      this.#noIslandUntil = 0;
    }
  }

  /** A short conditional branch that always reaches `label`; `inverted` is the opposite test. */
  #conditional(insn: string, label: Label, field: 'imm14' | 'imm19', encode: (d: number) => number, inverted: (d: number) => number): void {
    if (label.offset !== undefined) {
      this.beforeInstruction(8); // an island, if due, goes before the distance is measured
      const { min } = fieldRange(field);
      if (label.offset - this.size < min) {
        this.comment(`${insn} ${label.name}: out of reach, inverted around a b`);
        this.emit(inverted(8)); // skip the b when the original condition does not hold
        this.b(label);
        return;
      }
    }
    const fixup = this.branchTo(insn, label, field, (d) => wordBytes(encode(d)));
    if (fixup !== undefined) {
      this.#shortFixups.push(fixup);
      this.#deadline = Math.min(this.#deadline, fixup.at + fieldRange(field).max);
    }
  }

  /** Before each instruction: if a pending short branch could soon lose sight of its label, emit an island. */
  protected override beforeInstruction(length: number): void {
    if (this.#inIsland || this.size < this.#noIslandUntil) return;
    // Room for the instruction, a b over the island, a veneer per pending branch, and slack.
    const margin = (bytes: number): number => bytes + 4 * (this.#shortFixups.length + 2) + 64;
    if (this.size + margin(length) < this.#deadline) return;
    this.#shortFixups = this.#shortFixups.filter((f) => !f.done);
    this.#deadline = earliestReach(this.#shortFixups);
    if (this.size + margin(length) < this.#deadline) return;
    this.#island(margin(length) + ISLAND_WINDOW);
  }

  /** b over the island; then, for each short branch whose reach ends within `window`, a `b label` it is sent to. */
  #island(window: number): void {
    this.#inIsland = true;
    try {
      this.aside(() => this.#veneers(window));
    } finally {
      this.#inIsland = false;
    }
  }

  #veneers(window: number): void {
    const due = this.#shortFixups.filter((f) => f.at + fieldRange(f.field).max < this.size + window);
    const skip = this.size + 4 + 4 * due.length;
    this.emitUncommented(wordBytes(a64.b(skip - this.size)), `veneer island: ${due.length} branch${due.length === 1 ? '' : 'es'}`);
    for (const fixup of due) {
      this.retarget(fixup, this.size); // the short branch now aims at the veneer
      this.comment(`veneer for ${fixup.insn} at ${fixup.at} to '${fixup.label.name}'`);
      this.b(fixup.label);
    }
    this.#shortFixups = this.#shortFixups.filter((f) => !f.done);
    this.#deadline = earliestReach(this.#shortFixups);
  }
}

/** Branches within this many bytes of their limit join an island that is being emitted anyway. */
const ISLAND_WINDOW = 4096;

/** The lowest offset a forward short branch among `fixups` can reach, or Infinity. */
function earliestReach(fixups: readonly Fixup[]): number {
  let earliest = Infinity;
  for (const f of fixups) earliest = Math.min(earliest, f.at + fieldRange(f.field).max);
  return earliest;
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
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`prologue: slots must be an integer >= 0, got ${slots}`);
    for (const r of saved) {
      if (!calleeSaved.includes(r)) throw new RangeError(`prologue: register ${r} is not callee-saved (${calleeSaved.join(', ')})`);
    }
    if (new Set(saved).size !== saved.length) throw new RangeError('prologue: a register is saved twice');
    this.slots = slots;
    this.saved = [...saved];
    this.size = Math.ceil((saved.length + slots) / 2) * 16; // 8 bytes a word, sp stays 16-byte aligned
  }

  savedOffset(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.saved.length) {
      throw new RangeError(`saved register ${index}: this frame saves ${this.saved.length} register(s)`);
    }
    return -8 * (index + 1);
  }

  slotOffset(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) {
      throw new RangeError(`slot ${slot}: this frame has slots 0..${this.slots - 1} (prologue(${this.slots}))`);
    }
    return -8 * (this.saved.length + slot + 1);
  }
}

// @book:start format-listing
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
// @book:end format-listing
