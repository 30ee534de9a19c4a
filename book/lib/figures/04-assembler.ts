/**
 * Figures of chapter 04: the frame the MacroAssembler builds, and a forward branch patched by
 * bind. Both come from real runs of the reference assembler (in a child process with every
 * chapter's reference, see run-reference.ts): the frame's offsets are read from the stores the
 * masm emits, the fixup's bytes from the code before and after `bind`.
 */
import * as x64 from '../../../solutions/03-encoders/x64.ts';
import * as a64 from '../../../solutions/03-encoders/arm64.ts';
import { Arm64Assembler, X64Assembler } from '../../../solutions/04-assembler/assembler.ts';
import { createMacroAssembler } from '../../../solutions/04-assembler/masm.ts';
import { hex2 } from '../encodings.ts';
import { Drawing } from '../svg.ts';
import { registerReference, runReference } from './run-reference.ts';

export type FigureArch = 'x64' | 'arm64';
export const ARCHES: readonly FigureArch[] = ['x64', 'arm64'];
export const ARCH_TITLES: Readonly<Record<FigureArch, string>> = { x64: 'x86-64', arm64: 'AArch64' };

/** One instruction of a listing, as JSON carries it. */
export interface Line {
  readonly offset: number;
  readonly bytes: readonly number[];
  readonly text: string;
}

function lines(listing: readonly { offset: number; bytes: Uint8Array; text: string }[]): Line[] {
  return listing.map(({ offset, bytes, text }) => ({ offset, bytes: [...bytes], text }));
}

// ── the frame ──────────────────────────────────────────────────────────────────────────

/** What the frame figure draws: two saved registers and three slots. */
const FRAME_SLOTS = 3;
const FRAME_SAVED = 2;

/** Run in the child: a prologue, a store to every slot, per ISA. */
export function frameRun(): Record<FigureArch, { saved: string[]; listing: Line[] }> {
  const out = {} as Record<FigureArch, { saved: string[]; listing: Line[] }>;
  for (const arch of ARCHES) {
    const masm = createMacroAssembler(arch);
    const saved = masm.regs.calleeSaved.slice(0, FRAME_SAVED);
    masm.prologue(FRAME_SLOTS, saved);
    for (let slot = 0; slot < FRAME_SLOTS; slot++) masm.storeSlot(masm.regs.result, slot);
    out[arch] = { saved: saved.map((reg) => (arch === 'x64' ? x64.REG_NAMES[reg]! : a64.regName(reg))), listing: lines(masm.listing()) };
  }
  return out;
}

/** The frame pointer's name, and its offset in a store such as `[rbp - 0x18]` or `[x29, #-0x18]`. */
export const FRAME_POINTER: Readonly<Record<FigureArch, string>> = { x64: 'rbp', arm64: 'x29' };
export const STACK_POINTER: Readonly<Record<FigureArch, string>> = { x64: 'rsp', arm64: 'sp' };

/** The fp-relative offset a load or store of `line` uses, or undefined. */
export function frameOffset(arch: FigureArch, text: string): number | undefined {
  const match = arch === 'x64' ? /\[rbp - (0x[0-9a-f]+|\d+)\]/.exec(text) : /\[x29, #-(0x[0-9a-f]+|\d+)\]/.exec(text);
  return match ? -Number(match[1]) : undefined;
}

/** The bytes the prologue's `sub rsp, N` / `sub sp, sp, #N` reserves below the frame pointer. */
export function frameSize(arch: FigureArch, listing: readonly Line[]): number {
  const pattern = arch === 'x64' ? /^sub rsp, (0x[0-9a-f]+|\d+)$/ : /^sub sp, sp, #(0x[0-9a-f]+|\d+)$/;
  for (const line of listing) {
    const match = pattern.exec(line.text);
    if (match) return Number(match[1]);
  }
  throw new Error(`no ${arch} prologue that reserves a frame in:\n${listing.map((line) => line.text).join('\n')}`);
}

/** Offsets as the figures write them: `rbp + 8`, `rbp − 0x18`. */
export function offsetNote(arch: FigureArch, offset: number): string {
  const fp = FRAME_POINTER[arch];
  return offset === 0 ? fp : offset > 0 ? `${fp} + ${offset}` : `${fp} − 0x${(-offset).toString(16)}`;
}

/** A word of a frame: what is in it, at which fp-relative offset. */
export interface FrameWord {
  readonly offset: number;
  readonly label: string;
  /** How it is drawn: slots are shaded. */
  readonly kind: 'caller' | 'link' | 'saved' | 'local' | 'slot' | 'padding';
}

/**
 * The first two instructions of a prologue, which put the pair above the frame pointer: the
 * figures draw that pair as `linkWords` says, so they check the code does what it says.
 */
const LINK_PROLOGUE: Readonly<Record<FigureArch, readonly string[]>> = {
  x64: ['push rbp', 'mov rbp, rsp'], // the call pushed the return address just above
  arm64: ['stp x29, x30, [sp, #-0x10]!', 'mov x29, sp'], // x29 at [sp], x30 at [sp + 8]
};

export function checkLinkWords(arch: FigureArch, prologue: readonly { text: string }[]): void {
  const found = prologue.slice(0, 2).map((line) => line.text);
  if (found.join('; ') !== LINK_PROLOGUE[arch].join('; ')) {
    throw new Error(`the ${arch} prologue starts with '${found.join('; ')}', not '${LINK_PROLOGUE[arch].join('; ')}': the frame figures draw the saved pair wrong`);
  }
}

/** The two words above the frame pointer, which call and prologue put there. */
export function linkWords(arch: FigureArch): FrameWord[] {
  return arch === 'x64'
    ? [{ offset: 8, label: 'return address', kind: 'link' }, { offset: 0, label: "caller's rbp", kind: 'link' }]
    : [{ offset: 8, label: "caller's x30 (return)", kind: 'link' }, { offset: 0, label: "caller's x29", kind: 'link' }];
}

/**
 * Draws a frame as a column of 8-byte words from the caller's frame (top) down to the stack
 * pointer, each with its fp-relative offset on the left, and on the right a tick at every
 * 16-byte boundary below the frame pointer. Returns the column's height.
 */
export function drawFrame(drawing: Drawing, x: number, y: number, arch: FigureArch, words: readonly FrameWord[], size: number, title: string): number {
  const slotHeight = 24;
  const width = 170;
  const byOffset = new Map(words.map((word) => [word.offset, word]));
  const column: FrameWord[] = [{ offset: 16, label: "the caller's frame", kind: 'caller' }, ...linkWords(arch)];
  for (let offset = -8; offset >= -size; offset -= 8) column.push(byOffset.get(offset) ?? { offset, label: '(padding)', kind: 'padding' });
  drawing.text(x + width / 2, y + 14, title, { bold: true, size: 14 });
  const top = y + 26;
  drawing.slots(x, top, width, column.map((word) => ({
    label: word.label,
    note: word.kind === 'caller' ? '' : offsetNote(arch, word.offset),
    accent: word.kind === 'slot',
  })), slotHeight);
  // Pointers: the frame pointer at the word it points to, the stack pointer at the bottom.
  const fpRow = column.findIndex((word) => word.offset === 0);
  const right = x + width;
  drawing.arrow(right + 58, top + fpRow * slotHeight + slotHeight, right + 4, top + fpRow * slotHeight + slotHeight);
  drawing.text(right + 62, top + fpRow * slotHeight + slotHeight + 4, FRAME_POINTER[arch], { anchor: 'start', mono: true, size: 12, bold: true });
  const bottom = top + column.length * slotHeight;
  drawing.arrow(right + 58, bottom, right + 4, bottom);
  drawing.text(right + 62, bottom + 4, `${STACK_POINTER[arch]} = ${FRAME_POINTER[arch]} − 0x${size.toString(16)}`, { anchor: 'start', mono: true, size: 12, bold: true });
  // The 16-byte boundaries between them: the frame pointer and the stack pointer are both on one.
  for (let offset = -16; offset > -size; offset -= 16) {
    const row = column.findIndex((word) => word.offset === offset);
    drawing.line(right, top + (row + 1) * slotHeight, right + 10, top + (row + 1) * slotHeight, { muted: true });
  }
  return 26 + column.length * slotHeight;
}

function frameLayout(): string {
  const runs = runReference<ReturnType<typeof frameRun>>(import.meta.url, 'frameRun');
  const layouts = ARCHES.map((arch) => {
    const { saved, listing } = runs[arch];
    checkLinkWords(arch, listing);
    const size = frameSize(arch, listing);
    const stores = listing.map((line) => frameOffset(arch, line.text)).filter((offset) => offset !== undefined);
    if (stores.length !== FRAME_SAVED + FRAME_SLOTS) throw new Error(`expected ${FRAME_SAVED + FRAME_SLOTS} stores below ${FRAME_POINTER[arch]}, found ${stores.length}`);
    const words: FrameWord[] = stores.map((offset, i) => (i < FRAME_SAVED
      ? { offset, label: `saved ${saved[i]}`, kind: 'saved' as const }
      : { offset, label: `slot ${i - FRAME_SAVED}`, kind: 'slot' as const }));
    return { arch, size, words };
  });
  const columnWidth = 400;
  const drawing = new Drawing(2 * columnWidth + 70, 290,
    `The frame of prologue(${FRAME_SLOTS}, two callee-saved registers) on both ISAs, as the reference MacroAssembler lays it out. ${layouts
      .map(({ arch, size, words }) => `${ARCH_TITLES[arch]}: ${linkWords(arch).map((word) => `${word.label} at ${offsetNote(arch, word.offset)}`).join(', ')}, ${words
        .map((word) => `${word.label} at ${offsetNote(arch, word.offset)}`)
        .join(', ')}; the prologue reserves 0x${size.toString(16)} bytes, so ${STACK_POINTER[arch]} = ${FRAME_POINTER[arch]} − 0x${size.toString(16)}, a multiple of 16${size > 8 * words.length ? ', with one word of padding' : ''}.`)
      .join(' ')}`);
  layouts.forEach(({ arch, size, words }, i) => drawFrame(drawing, 100 + i * columnWidth, 8, arch, words, size, ARCH_TITLES[arch]));
  return drawing.render(
    `<code>prologue(${FRAME_SLOTS}, [two callee-saved registers])</code> on both ISAs, with the offsets the reference MacroAssembler's own stores use. ` +
      'The frame pointer points at the saved pair and never moves; slot <i>i</i> is at fp − 8 × (saved + <i>i</i> + 1). ' +
      `Ticks mark 16-byte boundaries: ${FRAME_SAVED + FRAME_SLOTS} words round up to ${layouts[0]!.size / 8}, so the stack pointer stays a multiple of 16.`,
  );
}

// ── labels and fixups ─────────────────────────────────────────────────────────────────

/** Run in the child: a forward conditional branch over one add, per ISA, before and after bind. */
export function fixupRun(): Record<FigureArch, { at: number; length: number; bound: number; before: Line[]; after: Line[] }> {
  const x = new X64Assembler();
  const xDone = x.newLabel('done');
  const xAt = x.size;
  x.jcc(x64.Cond.e, xDone);
  const xLength = x.size - xAt;
  x.emit(x64.addq_ri(x64.Reg.rax, 1));
  const xBefore = lines(x.listing());
  x.bind(xDone);
  x.emit(x64.ret());

  const a = new Arm64Assembler();
  const aDone = a.newLabel('done');
  const aAt = a.size;
  a.b_cond(a64.Cond.eq, aDone);
  const aLength = a.size - aAt;
  a.emit(a64.add_imm(a64.Reg.x0, a64.Reg.x0, 1));
  const aBefore = lines(a.listing());
  a.bind(aDone);
  a.emit(a64.ret());

  return {
    x64: { at: xAt, length: xLength, bound: xDone.offset!, before: xBefore, after: lines(x.listing()) },
    arm64: { at: aAt, length: aLength, bound: aDone.offset!, before: aBefore, after: lines(a.listing()) },
  };
}

/** The displacement field the patched branch holds, read back from its bytes, and how it counts. */
function branchField(arch: FigureArch, bytes: readonly number[]): { field: string; value: number; counted: string } {
  if (arch === 'x64') {
    const rel = new DataView(Uint8Array.from(bytes.slice(2, 6)).buffer).getInt32(0, true);
    return { field: 'rel32', value: rel, counted: 'from the end of the branch' };
  }
  const word = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
  const imm19 = (word >>> 5) & 0x7ffff;
  return { field: 'imm19', value: imm19 >= 0x40000 ? imm19 - 0x80000 : imm19, counted: 'in words from the branch itself' };
}

/** A short listing: offset, bytes as cells (the ones at `patched` shaded), capstone's text. */
function drawListing(drawing: Drawing, x: number, y: number, listing: readonly Line[], patched: (offset: number) => boolean, labelAt?: number): void {
  const cell = 22;
  listing.forEach((line, i) => {
    const rowY = y + i * 30;
    if (line.offset === labelAt) drawing.text(x - 6, rowY + 17, 'done:', { anchor: 'end', mono: true, size: 12, bold: true });
    drawing.text(x, rowY + 17, line.offset.toString(16).padStart(4, '0'), { anchor: 'start', mono: true, size: 12, muted: true });
    drawing.fields(x + 40, rowY, cell, line.bytes.map((byte, b) => ({ name: '', cells: [hex2(byte)], accent: patched(line.offset + b) })), 24);
    drawing.text(x + 48 + 6 * cell, rowY + 17, line.text, { anchor: 'start', mono: true, size: 12 });
  });
}

function labelsAndFixups(): string {
  const runs = runReference<ReturnType<typeof fixupRun>>(import.meta.url, 'fixupRun');
  const columnWidth = 400;
  const describeRun = (arch: FigureArch) => {
    const { at, length, bound, before, after } = runs[arch];
    const { field, value, counted } = branchField(arch, after[0]!.bytes);
    const origin = arch === 'x64' ? at + length : at;
    const scale = arch === 'x64' ? 1 : 4;
    if (origin + value * scale !== bound) throw new Error(`the patched ${field} ${value} does not reach the label at ${bound}`);
    return { at, length, bound, before, after, field, value, counted, origin, scale };
  };
  const described = Object.fromEntries(ARCHES.map((arch) => [arch, describeRun(arch)])) as Record<FigureArch, ReturnType<typeof describeRun>>;
  const drawing = new Drawing(2 * columnWidth, 300,
    `A forward branch to the label done, emitted before done is bound, on both ISAs. ${ARCHES.map((arch) => {
      const d = described[arch];
      return `${ARCH_TITLES[arch]}: at offset ${d.at}, ${d.before[0]!.text} is emitted as ${d.before[0]!.bytes.map(hex2).join(' ')} with a zero displacement and a fixup is recorded (at ${d.at}, length ${d.length}, field ${d.field}); bind(done) at offset ${d.bound} re-encodes it as ${d.after[0]!.bytes.map(hex2).join(' ')}, ${d.field} = ${d.value}, counted ${d.counted}.`;
    }).join(' ')}`);
  ARCHES.forEach((arch, i) => {
    const d = described[arch];
    const x = 50 + i * columnWidth;
    const patchedBytes = (offset: number) => offset >= d.at && offset < d.at + d.length && d.before[0]!.bytes[offset - d.at] !== d.after[0]!.bytes[offset - d.at];
    drawing.text(x, 18, `${ARCH_TITLES[arch]}: branch emitted, done unbound`, { anchor: 'start', bold: true, size: 13 });
    drawListing(drawing, x, 28, d.before, () => false);
    const boxY = 28 + d.before.length * 30 + 14;
    drawing.box(x, boxY, 300, 46, `fixup: at ${d.at}, length ${d.length}, ${d.field}`, `encode(distance) again at bind`);
    drawing.arrow(x + 150, boxY + 48, x + 150, boxY + 80, '');
    drawing.text(x + 158, boxY + 70, `bind(done) at ${d.bound}`, { anchor: 'start', mono: true, size: 12 });
    const afterY = boxY + 96;
    drawing.text(x, afterY - 4, `patched: ${d.field} = ${d.value}${d.scale > 1 ? ` (× ${d.scale} = ${d.value * d.scale})` : ''}`, { anchor: 'start', bold: true, size: 13 });
    drawListing(drawing, x, afterY + 6, d.after, patchedBytes, d.bound);
    // The branch's reach: from where its displacement counts to the label.
    const rowOf = (offset: number) => d.after.findIndex((line) => line.offset >= offset);
    const fromRow = arch === 'x64' ? rowOf(d.origin) : 0;
    const toRow = rowOf(d.bound);
    const edge = x + 345;
    drawing.route([[edge - 10, afterY + 6 + fromRow * 30 + 12], [edge, afterY + 6 + fromRow * 30 + 12], [edge, afterY + 6 + toRow * 30 + 12], [edge - 10, afterY + 6 + toRow * 30 + 12]]);
  });
  return drawing.render(
    'A branch to a label that is not bound yet: the assembler emits it with a zero displacement and records a fixup. ' +
      '<code>bind</code> computes the distance and lays the re-encoded instruction over the placeholder (shaded: the bytes that changed). ' +
      'x86-64 counts rel32 from the end of the branch (the arrow starts at the next instruction); AArch64 counts imm19 in words from the branch itself.',
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'frameRun');
registerReference(import.meta.url, 'fixupRun');

export const FIGURES_04: Readonly<Record<string, () => string>> = {
  'frame-layout': frameLayout,
  'labels-and-fixups': labelsAndFixups,
};
