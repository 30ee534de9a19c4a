/**
 * Figures of chapter 03: instructions taken apart, made from the bytes the reference encoders
 * return, decoded field by field (so a figure shows what the encoders produce, always).
 */
import * as x64 from '../../../solutions/03-encoders/x64.ts';
import * as a64 from '../../../solutions/03-encoders/arm64.ts';
import { disassemble, hex, type DisasmLine } from '../../../native/disasm.ts';
import {
  ADD_SUB_IMMEDIATE, CONDITIONAL_BRANCH, EXTENSION_OPCODES, LOAD_STORE_UNSIGNED_IMMEDIATE, MOVE_WIDE,
  armFields, describe, modrmBits, rexBits, sibBits, wordOf, x64Parts, type WordClass,
} from '../encodings.ts';
import { Drawing, type Field } from '../svg.ts';

/** One x86-64 instruction as the reference encoder returns it, with capstone's reading of it. */
function x64Instruction(bytes: readonly number[]): DisasmLine {
  const lines = disassemble(bytes, 'x64');
  if (lines.length !== 1) throw new Error(`expected one instruction in ${hex(bytes)}, capstone read ${lines.length}`);
  return lines[0]!;
}

/** The byte groups of an x86-64 instruction: its REX, ModRM and SIB bytes split into bits. */
function bitGroups(line: DisasmLine): { name: string; byte: number; fields: Field[] }[] {
  const parts = x64Parts(line.bytes);
  let at = 0;
  const offsets = new Map<string, number>();
  for (const part of parts) {
    offsets.set(part.name, at);
    at += part.cells.length;
  }
  const rex = offsets.has('REX') ? line.bytes[offsets.get('REX')!]! : 0;
  const opcodeAt = offsets.get('opcode')!;
  const groups: { name: string; byte: number; fields: Field[] }[] = [];
  if (offsets.has('REX')) groups.push({ name: 'REX', byte: rex, fields: rexBits(rex) });
  if (offsets.has('ModRM')) {
    const modrm = line.bytes[offsets.get('ModRM')!]!;
    groups.push({ name: 'ModRM', byte: modrm, fields: modrmBits(modrm, { rex, extension: EXTENSION_OPCODES.has(line.bytes[opcodeAt]!) }) });
  }
  if (offsets.has('SIB')) {
    const sib = line.bytes[offsets.get('SIB')!]!;
    groups.push({ name: 'SIB', byte: sib, fields: sibBits(sib, rex) });
  }
  return groups;
}

/**
 * Rows of x86-64 instructions: the bytes cut into their parts, and under them the bits of the
 * REX, ModRM and SIB bytes with what each field selects. `accent` names the parts to shade.
 */
function x64Rows(instructions: readonly (readonly number[])[], accent: (line: DisasmLine, part: Field) => boolean, alt: string, caption: string): string {
  const lines = instructions.map(x64Instruction);
  const byteCell = 56;
  const bitCell = 22;
  const group = 8 * bitCell + 28;
  const rowHeight = 196;
  const drawing = new Drawing(20 + 3 * group, 10 + lines.length * rowHeight, alt);
  lines.forEach((line, i) => {
    const y = 10 + i * rowHeight;
    drawing.text(10, y + 16, line.text, { anchor: 'start', mono: true, size: 14, bold: true });
    drawing.text(20 + 3 * group - 28, y + 16, hex(line.bytes), { anchor: 'end', mono: true, size: 12, muted: true });
    const parts = x64Parts(line.bytes).map((part) => ({ ...part, accent: accent(line, part) }));
    const edges = drawing.fields(10, y + 26, byteCell, parts);
    bitGroups(line).forEach((bitGroup, g) => {
      const left = 10 + g * group;
      const part = parts.findIndex((candidate) => candidate.name === bitGroup.name);
      drawing.arrow(edges[part]! + byteCell / 2, y + 92, left + 4 * bitCell, y + 112);
      drawing.fields(left, y + 114, bitCell, bitGroup.fields);
    });
  });
  return drawing.render(caption);
}

function describeX64(instructions: readonly (readonly number[])[]): string {
  return instructions
    .map(x64Instruction)
    .map((line) => `${line.text} is ${hex(line.bytes)}: ${describe(x64Parts(line.bytes))}; ${bitGroups(line).map((group) => `the ${group.name} bits: ${describe(group.fields)}`).join('; ')}.`)
    .join(' ');
}

function x64MemoryOperands(): string {
  const { Reg, mem } = x64;
  const instructions = [x64.movq_rm(Reg.rax, mem(Reg.rbx)), x64.movq_rm(Reg.rax, mem(Reg.rsp, 8)), x64.movq_rm(Reg.rax, mem(Reg.r13))];
  return x64Rows(
    instructions,
    (_, part) => part.name === 'SIB' || part.name.startsWith('disp'),
    `Three loads as the reference encoder emits them, each split into bytes and then bits. ${describeX64(instructions)}`,
    'Three loads from the reference <code>movq_rm</code>. <code>[rbx]</code> needs only ModRM. ' +
      '<code>[rsp + 8]</code> needs a SIB byte, because rm = 100 means "a SIB byte follows" (its index 100 says: no index). ' +
      '<code>[r13]</code> needs a zero disp8, because mod = 00 with rm = 101 means rip-relative. Shaded: the bytes the special cases add.',
  );
}

function x64ImmediateForms(): string {
  const { Reg } = x64;
  const instructions = [x64.addq_ri(Reg.r9, 8), x64.addq_ri(Reg.r9, 1000), x64.addq_ri(Reg.rax, 1000)];
  return x64Rows(
    instructions,
    (_, part) => part.name.startsWith('imm'),
    `Three additions of a constant as the reference encoder emits them. ${describeX64(instructions)}`,
    'Three ways to add a constant, as the reference <code>addq_ri</code> picks them: <code>83 /0 ib</code> when it fits in a signed byte, ' +
      '<code>81 /0 id</code> otherwise, and the one-byte-shorter <code>05 id</code> when the register is rax. ' +
      'REX.B = 1 makes rm 001 mean r9; reg holds the opcode extension /0 (add), not a register.',
  );
}

/** AArch64 words, each with the class its fields are read with. */
function armRows(rows: readonly { word: number; wordClass: WordClass; title?: string }[], alt: string, caption: string): string {
  const cell = 21;
  const rowHeight = 96;
  const drawing = new Drawing(40 + 32 * cell, 10 + rows.length * rowHeight, alt);
  rows.forEach(({ word, wordClass, title }, i) => {
    const y = 8 + i * rowHeight;
    const line = armLine(word);
    drawing.text(20, y + 14, title ?? line.text, { anchor: 'start', mono: true, size: 13, bold: true });
    drawing.text(20 + 32 * cell, y + 14, `0x${word.toString(16).padStart(8, '0')}   bytes ${hex(line.bytes)}`, { anchor: 'end', mono: true, size: 12, muted: true });
    drawing.fields(20, y + 22, cell, armFields(word, wordClass));
  });
  return drawing.render(caption);
}

/** Capstone's reading of one AArch64 word, given least significant byte first as in memory. */
function armLine(word: number): DisasmLine {
  const bytes = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff];
  const [line] = disassemble(bytes, 'arm64');
  if (line === undefined || wordOf(line) !== word >>> 0) throw new Error(`capstone did not read 0x${word.toString(16)} as one word`);
  return line;
}

function arm64InstructionFields(): string {
  const { Reg, Cond } = a64;
  const back = 8;
  const rows = [
    { word: a64.add_imm(Reg.x0, Reg.x1, 4), wordClass: ADD_SUB_IMMEDIATE },
    { word: a64.ldr_imm(Reg.x0, Reg.sp, 16), wordClass: LOAD_STORE_UNSIGNED_IMMEDIATE },
    { word: a64.b_cond(Cond.ne, -back), wordClass: CONDITIONAL_BRANCH, title: `b.ne loop        (loop: ${back} bytes before this word)` },
    { word: a64.movz(Reg.x0, 0x1234, 16), wordClass: MOVE_WIDE },
    { word: a64.movk(Reg.x0, 0x5678, 0), wordClass: MOVE_WIDE },
  ];
  return armRows(
    rows,
    `Five AArch64 words from the reference encoders, each split into the fields of its class, high bit to low. ${rows
      .map(({ word, wordClass, title }) => `${title ?? armLine(word).text}, the word 0x${(word >>> 0).toString(16).padStart(8, '0')}: ${describe(armFields(word, wordClass))}.`)
      .join(' ')}`,
    'Five words of the reference AArch64 encoders, cut into fields. Every instruction is one 32-bit word; the class bits say how to read the rest. ' +
      `The load offset is scaled (imm12 counts 8-byte units), the branch counts 4-byte words from the branch itself (here back ${back} bytes), and ` +
      '<code>movz</code> then <code>movk</code> build 0x12345678 in x0 16 bits at a time (capstone prints the <code>movz</code> as <code>mov</code>).',
  );
}

export const FIGURES_03: Readonly<Record<string, () => string>> = {
  'x64-memory-operands': x64MemoryOperands,
  'x64-immediate-forms': x64ImmediateForms,
  'arm64-instruction-fields': arm64InstructionFields,
};
