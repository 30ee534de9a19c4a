/**
 * The book's figures, by name. A page draws one with a line of its own: `@figure NAME`.
 *
 * Figures of encodings are made from real bytes: the reference adder of chapter 02 is run,
 * and its output is split into fields here, so a figure cannot show bytes the code does not
 * produce.
 */
import { adderCode } from '../../solutions/02-add-four/add-four.ts';
import { disassemble, hex, type DisasmLine } from '../../native/disasm.ts';
import { Drawing, type Field } from './svg.ts';

/**
 * Replaces each `@figure NAME` line of `markdown` (outside fenced code) by the figure's HTML.
 * Returns the names drawn and a problem, `page:line: …`, for each unknown name.
 */
export function expandFigures(markdown: string, pageName: string): { markdown: string; figures: string[]; problems: string[] } {
  const figures: string[] = [];
  const problems: string[] = [];
  let fence: string | undefined;
  const lines = markdown.split('\n').map((line, index) => {
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) fence = fence === undefined ? fenceMatch[1] : line.trim().startsWith(fence) ? undefined : fence;
    const match = fence === undefined ? /^@figure\s+(\S+)\s*$/.exec(line) : null;
    if (!match) return line;
    const draw = FIGURES[match[1]!];
    if (!draw) {
      problems.push(`${pageName}:${index + 1}: no figure '${match[1]}' (figures: ${Object.keys(FIGURES).join(', ')})`);
      return line;
    }
    figures.push(match[1]!);
    return draw();
  });
  return { markdown: lines.join('\n'), figures, problems };
}

/** Every figure a page may name; each returns the figure's HTML. */
export const FIGURES: Readonly<Record<string, () => string>> = {
  'region-life': regionLife,
  'region-states': regionStates,
  'x64-add-imm8': x64AddImm8,
  'x64-adder-forms': x64AdderForms,
  'arm64-add-imm': arm64AddImm,
  'arm64-move-wide': arm64MoveWide,
};

// ── Chapter 01 ────────────────────────────────────────────────────────────────────────

function regionLife(): string {
  const steps = [
    { label: 'mapped', perms: 'rw-p', note: 'all zeros' },
    { label: 'written', perms: 'rw-p', note: 'your bytes' },
    { label: 'sealed', perms: 'r-xp', note: 'cache flushed' },
    { label: 'called', perms: 'r-xp', note: 'f(1n) → 5n' },
    { label: 'unmapped', perms: '(gone)', note: 'no mapping' },
  ];
  const calls = ['write', 'mprotect', 'call', 'munmap'];
  const box = 116;
  const gap = 74;
  const drawing = new Drawing(20 + steps.length * box + (steps.length - 1) * gap, 150,
    'The life of a code region, left to right: mmap gives writable zeroed pages (rw-p); write copies the code in; mprotect seals them read and execute (r-xp) and the cache is flushed; the code is called; munmap removes the pages. No step is writable and executable at once.');
  drawing.text(10, 20, 'mmap', { anchor: 'start', mono: true, size: 12 });
  drawing.arrow(40, 28, 40, 48);
  steps.forEach((step, i) => {
    const x = 10 + i * (box + gap);
    drawing.box(x, 50, box, 56, step.label, step.perms, { accent: step.perms.includes('x') });
    drawing.text(x + box / 2, 128, step.note, { size: 12, muted: true });
    if (i < calls.length) drawing.arrow(x + box + 3, 78, x + box + gap - 3, 78, calls[i]!);
  });
  return drawing.render('The W^X life of a region, with the permissions <code>/proc/self/maps</code> shows at each step. Shaded: executable, and never writable at the same time.');
}

function regionStates(): string {
  const drawing = new Drawing(600, 190,
    'The three states of a CodeRegion: allocate() leads to writable (READ|WRITE); seal() goes from writable to executable (READ|EXEC); unseal() goes back; dispose() goes from either to disposed (unmapped).');
  drawing.text(90, 18, 'allocate()', { mono: true, size: 12 });
  drawing.arrow(90, 24, 90, 56);
  drawing.box(20, 58, 140, 56, 'writable', 'READ | WRITE');
  drawing.box(220, 58, 140, 56, 'executable', 'READ | EXEC', { accent: true });
  drawing.box(460, 58, 120, 56, 'disposed', 'unmapped');
  drawing.arrow(162, 74, 218, 74, 'seal()');
  drawing.arrow(218, 100, 162, 100);
  drawing.text(190, 128, 'unseal()', { mono: true, size: 12 });
  drawing.arrow(362, 86, 458, 86, 'dispose()');
  drawing.arrow(90, 116, 90, 160);
  drawing.arrow(90, 160, 520, 160);
  drawing.arrow(520, 160, 520, 116);
  drawing.text(305, 180, 'dispose()', { mono: true, size: 12 });
  return drawing.render('The three states of a <code>CodeRegion</code>. No state is writable and executable at once.');
}

// ── Chapter 02: x86-64 ────────────────────────────────────────────────────────────────

/** The instructions of the reference adder for `k`, without the `mov rax, rdi` and `ret` around them. */
function adderBody(k: bigint, arch: 'x64' | 'arm64'): DisasmLine[] {
  const lines = disassemble(adderCode(k, arch), arch);
  return lines.filter((line) => line.mnemonic !== 'ret' && !(arch === 'x64' && line.text === 'mov rax, rdi'));
}

const hex2 = (byte: number) => byte.toString(16).padStart(2, '0');
const bits = (value: number, width: number) => value.toString(2).padStart(width, '0').split('');

/** Opcodes of the adder that a ModRM byte follows (the others carry no operand byte). */
const HAS_MODRM = new Set([0x01, 0x83, 0x89]);

/**
 * An x86-64 instruction of the adder, split into its parts: a REX prefix (0x40–0x4f), the
 * opcode, a ModRM byte for the opcodes that have one, and the immediate (the rest).
 */
function x64Parts(bytes: Uint8Array): Field[] {
  const parts: Field[] = [];
  let at = 0;
  if (bytes[at]! >= 0x40 && bytes[at]! <= 0x4f) {
    const rex = bytes[at++]!;
    parts.push({ name: 'REX', cells: [hex2(rex)], note: `W=${(rex >> 3) & 1}` });
  }
  const opcode = bytes[at++]!;
  const register = opcode >= 0xb8 && opcode <= 0xbf ? ` (b8+${opcode - 0xb8})` : '';
  parts.push({ name: 'opcode', cells: [hex2(opcode)], note: register.trim() || undefined });
  if (HAS_MODRM.has(opcode)) {
    const modrm = bytes[at++]!;
    parts.push({ name: 'ModRM', cells: [hex2(modrm)], note: `${bits(modrm >> 6, 2).join('')} ${bits((modrm >> 3) & 7, 3).join('')} ${bits(modrm & 7, 3).join('')}` });
  }
  if (at < bytes.length) {
    const immediate = bytes.slice(at);
    const size = { 1: 'imm8', 4: 'imm32', 8: 'imm64' }[immediate.length] ?? `${immediate.length} bytes`;
    const value = BigInt.asIntN(immediate.length * 8, [...immediate].reduceRight((sum, byte) => (sum << 8n) | BigInt(byte), 0n));
    const shown = value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
    parts.push({ name: size, cells: [...immediate].map(hex2), note: `= ${shown}`, accent: true });
  }
  return parts;
}

/** Fields as words, for alt text: `REX 48 (W=1), opcode 83, …`. */
function describe(fields: readonly Field[]): string {
  return fields.map((field) => `${field.name} ${field.cells.join(field.cells.length > 1 && field.cells[0]!.length > 1 ? ' ' : '')}${field.note ? ` (${field.note})` : ''}`).join(', ');
}

function x64AddImm8(): string {
  const [add] = adderBody(4n, 'x64');
  const rex = add!.bytes[0]!;
  const modrm = add!.bytes[2]!;
  const drawing = new Drawing(620, 250,
    `The bytes of ${add!.text}, ${hex(add!.bytes)}: ${describe(x64Parts(add!.bytes))}. The REX byte's bits: ${describe(rexBits(rex))}. The ModRM byte's bits: ${describe(modrmBits(modrm))}.`);
  drawing.text(10, 20, `${add!.text}`, { anchor: 'start', mono: true, size: 14, bold: true });
  const cell = 60;
  const meanings: Record<string, string> = { REX: 'prefix', opcode: 'ADD group', ModRM: 'operands', imm8: `= ${add!.bytes[3]}` };
  const edges = drawing.fields(150, 34, cell, x64Parts(add!.bytes).map((part) => ({ ...part, note: meanings[part.name] })));
  const bitCell = 18;
  const rexLeft = 10;
  const modrmLeft = 350;
  drawing.fields(rexLeft, 150, bitCell, rexBits(rex));
  drawing.fields(modrmLeft, 150, bitCell, modrmBits(modrm));
  // Lines from each byte down to its bits.
  drawing.arrow(edges[0]! + cell / 2, 100, rexLeft + 4 * bitCell, 146);
  drawing.arrow(edges[2]! + cell / 2, 100, modrmLeft + 4 * bitCell, 146);
  return drawing.render(`<code>${add!.text}</code> from the reference adder for k = 4, byte by byte; below, the bits of its REX prefix and of its ModRM byte.`);
}

const X64_REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];

/** A REX prefix: 0100, then W (64-bit operands) and the R, X, B extension bits. */
function rexBits(rex: number): Field[] {
  return [
    { name: 'fixed', cells: bits(rex >> 4, 4) },
    { name: 'W', cells: [String((rex >> 3) & 1)], note: (rex >> 3) & 1 ? '64-bit' : '32-bit', accent: true },
    { name: 'R', cells: [String((rex >> 2) & 1)] },
    { name: 'X', cells: [String((rex >> 1) & 1)] },
    { name: 'B', cells: [String(rex & 1)] },
  ];
}

/** A ModRM byte: mod (11 = a register operand), reg (a register, or /digit), rm. */
function modrmBits(modrm: number): Field[] {
  const mod = modrm >> 6;
  return [
    { name: 'mod', cells: bits(mod, 2), note: mod === 3 ? 'register' : 'memory' },
    { name: 'reg', cells: bits((modrm >> 3) & 7, 3), note: `/${(modrm >> 3) & 7}`, accent: true },
    { name: 'rm', cells: bits(modrm & 7, 3), note: mod === 3 ? X64_REGISTERS[modrm & 7] : undefined },
  ];
}

function x64AdderForms(): string {
  const cases = [4n, 1000n, 0x123456789an];
  const rows = cases.flatMap((k) => adderBody(k, 'x64').map((line, i) => ({ k, line, first: i === 0 })));
  const cell = 52;
  const drawing = new Drawing(760, 30 + rows.length * 78,
    `The add instructions of the reference adder for three constants. ${rows.map(({ k, line }) => `For k = ${k}, ${line.text}: ${describe(x64Parts(line.bytes))}.`).join(' ')}`);
  rows.forEach(({ k, line, first }, i) => {
    const y = 20 + i * 78;
    if (first) drawing.text(10, y + 18, `k = ${k <= 0xffffn ? k : `0x${k.toString(16)}`}`, { anchor: 'start', mono: true, size: 13, bold: true });
    drawing.text(10, y + 36, line.text, { anchor: 'start', mono: true, size: 12, muted: true });
    drawing.fields(200, y, cell, x64Parts(line.bytes));
  });
  return drawing.render('The three x86-64 forms of <code>adderCode</code>, as the reference emits them: shaded, the immediate, least significant byte first.');
}

// ── Chapter 02: AArch64 ───────────────────────────────────────────────────────────────

/** The fields of one AArch64 instruction class: bit ranges, high to low, covering all 32 bits. */
interface WordClass {
  readonly mask: number;
  readonly value: number;
  readonly fields: readonly { name: string; hi: number; lo: number; note: (value: number) => string; accent?: boolean }[];
}

const register = (value: number) => (value === 31 ? 'sp/xzr' : `x${value}`);
const hexValue = (value: number) => `0x${value.toString(16)}`;

const ADD_SUB_IMMEDIATE: WordClass = {
  mask: 0x1f800000,
  value: 0x11000000,
  fields: [
    { name: 'sf', hi: 31, lo: 31, note: (v) => (v ? '64-bit' : '32-bit') },
    { name: 'op', hi: 30, lo: 30, note: (v) => (v ? 'sub' : 'add') },
    { name: 'S', hi: 29, lo: 29, note: (v) => (v ? 'flags' : 'no flags') },
    { name: 'add/sub imm', hi: 28, lo: 23, note: () => 'class' },
    { name: 'sh', hi: 22, lo: 22, note: (v) => (v ? 'lsl 12' : 'lsl 0') },
    { name: 'imm12', hi: 21, lo: 10, note: hexValue, accent: true },
    { name: 'Rn', hi: 9, lo: 5, note: register },
    { name: 'Rd', hi: 4, lo: 0, note: register },
  ],
};

const MOVE_WIDE: WordClass = {
  mask: 0x1f800000,
  value: 0x12800000,
  fields: [
    { name: 'sf', hi: 31, lo: 31, note: (v) => (v ? '64-bit' : '32-bit') },
    { name: 'opc', hi: 30, lo: 29, note: (v) => ['movn', '?', 'movz', 'movk'][v]! },
    { name: 'move wide', hi: 28, lo: 23, note: () => 'class' },
    { name: 'hw', hi: 22, lo: 21, note: (v) => `lsl ${16 * v}` },
    { name: 'imm16', hi: 20, lo: 5, note: hexValue, accent: true },
    { name: 'Rd', hi: 4, lo: 0, note: register },
  ],
};

/** An AArch64 word split into the fields of its class. */
function armFields(word: number, wordClass: WordClass): Field[] {
  if (((word & wordClass.mask) >>> 0) !== wordClass.value) throw new Error(`0x${word.toString(16)} is not of the class this figure draws`);
  return wordClass.fields.map(({ name, hi, lo, note, accent }) => {
    const width = hi - lo + 1;
    const value = Number((BigInt(word >>> 0) >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
    return { name, cells: bits(value, width), note: note(value), accent };
  });
}

function wordOf(line: DisasmLine): number {
  return new DataView(line.bytes.buffer, line.bytes.byteOffset, 4).getUint32(0, true);
}

function armWordFigure(lines: readonly DisasmLine[], wordClass: WordClass, alt: string, caption: string): string {
  const cell = 21;
  const drawing = new Drawing(40 + 32 * cell, 20 + lines.length * 100, alt);
  lines.forEach((line, i) => {
    const y = 10 + i * 100;
    const word = wordOf(line);
    drawing.text(20, y + 14, `${line.text}`, { anchor: 'start', mono: true, size: 13, bold: true });
    drawing.text(20 + 32 * cell, y + 14, `0x${word.toString(16).padStart(8, '0')}   bytes ${hex(line.bytes)}`, { anchor: 'end', mono: true, size: 12, muted: true });
    drawing.fields(20, y + 24, cell, armFields(word, wordClass));
  });
  return drawing.render(caption);
}

function arm64AddImm(): string {
  const [add] = adderBody(4n, 'arm64');
  const word = wordOf(add!);
  return armWordFigure(
    [add!],
    ADD_SUB_IMMEDIATE,
    `The 32 bits of ${add!.text}, the word 0x${word.toString(16)}, high to low: ${describe(armFields(word, ADD_SUB_IMMEDIATE))}.`,
    `<code>${add!.text}</code>, the first word of the reference adder for k = 4, split into the fields of an add/subtract (immediate) instruction.`,
  );
}

function arm64MoveWide(): string {
  const k = 0x12345678n;
  const moves = adderBody(k, 'arm64').filter((line) => line.mnemonic === 'mov' || line.mnemonic === 'movk');
  const described = moves.map((line) => `${line.text}, the word 0x${wordOf(line).toString(16)}: ${describe(armFields(wordOf(line), MOVE_WIDE))}`).join('; then ');
  return armWordFigure(
    moves,
    MOVE_WIDE,
    `The move-wide words the reference adder emits to build 0x${k.toString(16)} in x9, each field high to low: ${described}.`,
    `Building <code>k = 0x${k.toString(16)}</code> 16 bits at a time: the <code>movz</code> (printed <code>mov</code>) and <code>movk</code> words of the reference adder, split into their fields.`,
  );
}
