/**
 * Figures of chapter 06: the bytecode of a loop, compiled by the reference compiler (in a
 * child process with every chapter's reference, see run-reference.ts), decoded with the
 * opcode table, and its jumps drawn as arrows between offsets.
 */
import { OPCODES, readU16 } from '../../../solutions/06-interpreter/bytecode.ts';
import { compileSource } from '../../../solutions/06-interpreter/compiler.ts';
import { hex2 } from '../encodings.ts';
import { Drawing } from '../svg.ts';
import { registerReference, runReference } from './run-reference.ts';

export const LOOP_SOURCE = `fn main() {
  let i = 0;
  let sum = 0;
  while i < 5 {
    sum = sum + i;
    i = i + 1;
  }
  return sum;
}`;

/** The loop of LOOP_SOURCE on one line, for alt text and captions: `while i < 5 { … }`. */
export function loopText(): string {
  const start = LOOP_SOURCE.indexOf('while');
  const end = LOOP_SOURCE.lastIndexOf('}', LOOP_SOURCE.indexOf('return')) + 1;
  return LOOP_SOURCE.slice(start, end).replace(/\s+/g, ' ');
}

/** A compiled function as JSON carries it. */
export interface CompiledJson {
  readonly name: string;
  readonly locals: number;
  readonly maxStack: number;
  readonly code: number[];
  readonly constants: string[];
  readonly lines: { offset: number; line: number }[];
}

/** Run in the child: `main` of `source`, compiled by the reference compiler. */
export function compileRun(source = LOOP_SOURCE): CompiledJson {
  const program = compileSource(source);
  const fn = program.functions[program.main]!;
  return {
    name: fn.name,
    locals: fn.locals,
    maxStack: fn.maxStack,
    code: [...fn.code],
    constants: fn.constants.map(String),
    lines: fn.lines.map(({ offset, line }) => ({ offset, line })),
  };
}

/** One decoded instruction. */
export interface Decoded {
  readonly offset: number;
  readonly bytes: number[];
  readonly name: string;
  readonly operands: number[];
  /** `jump` and `jump_if_false`: where they go. */
  readonly target?: number;
  /** The text a listing shows: `const 1  ; 5`, `jump_if_false 0037`. */
  readonly text: string;
}

export function decode(fn: CompiledJson): Decoded[] {
  const code = Uint8Array.from(fn.code);
  const out: Decoded[] = [];
  for (let pc = 0; pc < code.length; ) {
    const info = OPCODES[code[pc]!];
    if (info === undefined) throw new Error(`unknown opcode 0x${code[pc]!.toString(16)} at ${pc}`);
    const operands: number[] = [];
    let at = pc + 1;
    for (const kind of info.operands) {
      operands.push(kind === 'u8' ? code[at]! : readU16(code, at));
      at += kind === 'u8' ? 1 : 2;
    }
    const jump = info.name === 'jump' || info.name === 'jump_if_false';
    const shown = operands.map((n) => (jump ? String(n).padStart(4, '0') : String(n)));
    const comment = info.name === 'const' ? `   ; ${fn.constants[operands[0]!]}` : '';
    out.push({
      offset: pc,
      bytes: [...code.slice(pc, at)],
      name: info.name,
      operands,
      target: jump ? operands[0] : undefined,
      text: [info.name, ...shown].join(' ') + comment,
    });
    pc = at;
  }
  return out;
}

function loopBytecode(): string {
  const fn = runReference<CompiledJson>(import.meta.url, 'compileRun');
  const rows = decode(fn);
  const sourceLines = LOOP_SOURCE.split('\n');
  const rowHeight = 24;
  const top = 34;
  const sourceX = 10;
  const offsetX = 230;
  const bytesX = 272;
  const cell = 22;
  const textX = bytesX + 3 * cell + 14;
  const laneX = textX + 200;
  const jumps = rows.filter((row) => row.target !== undefined).sort((a, b) => Math.abs(a.offset - a.target!) - Math.abs(b.offset - b.target!));
  const width = laneX + jumps.length * 26 + 20;
  const drawing = new Drawing(width, top + rows.length * rowHeight + 16,
    `The bytecode the reference compiler makes for the loop ${loopText()}, one instruction a row with its offset and bytes, and the source line each row comes from. ${rows
      .map((row) => `${String(row.offset).padStart(4, '0')}: ${row.text.replace(/\s+;/, ',')} (bytes ${row.bytes.map(hex2).join(' ')})`)
      .join('; ')}. ${jumps.map((row) => `The ${row.name} at ${row.offset} goes ${row.target! < row.offset ? 'back' : 'forward'} to ${row.target}`).join('; ')}.`);
  drawing.text(sourceX, 18, 'source', { anchor: 'start', size: 12, muted: true });
  drawing.text(offsetX, 18, 'offset', { anchor: 'start', size: 12, muted: true });
  drawing.text(bytesX, 18, 'bytes', { anchor: 'start', size: 12, muted: true });
  drawing.text(textX, 18, 'instruction', { anchor: 'start', size: 12, muted: true });
  const rowOf = (offset: number) => rows.findIndex((row) => row.offset === offset);
  const middle = (index: number) => top + index * rowHeight + rowHeight / 2;
  // Each source line beside the first instruction compiled from it.
  for (const { offset, line } of fn.lines) {
    const text = sourceLines[line - 1];
    if (text !== undefined) drawing.text(sourceX, middle(rowOf(offset)) + 4, `${line}  ${text.trim()}`, { anchor: 'start', mono: true, size: 12, muted: true });
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    drawing.text(offsetX, y + 16, String(row.offset).padStart(4, '0'), { anchor: 'start', mono: true, size: 12, muted: true });
    drawing.fields(bytesX, y + 1, cell, row.bytes.map((byte) => ({ name: '', cells: [hex2(byte)], accent: row.target !== undefined })), rowHeight - 2);
    drawing.text(textX, y + 16, row.text, { anchor: 'start', mono: true, size: 12, bold: row.target !== undefined });
  });
  // The jumps, each in a lane of its own to the right; the shortest nearest.
  jumps.forEach((row, lane) => {
    const x = laneX + lane * 26 + 16;
    const from = middle(rowOf(row.offset));
    const to = middle(rowOf(row.target!));
    drawing.route([[laneX - 8, from], [x, from], [x, to], [laneX - 4, to]]);
  });
  const forward = jumps.find((row) => row.target! > row.offset)!;
  return drawing.render(
    `A <code>while</code> loop as the reference compiler emits it: the condition at ${String(jumps.find((row) => row.name === 'jump')?.target ?? 0).padStart(4, '0')}, ` +
      '<code>jump_if_false</code> forward past the loop, the body, and <code>jump</code> back to the condition. ' +
      `A jump's operand is the offset of its target, two bytes, least significant first (offsets are decimal, as the listing writes them; bytes are hex: ${forward.bytes.slice(1).map(hex2).join(' ')} is ${forward.target}). Shaded: the jumps.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'compileRun');

export const FIGURES_06: Readonly<Record<string, () => string>> = {
  'loop-bytecode': loopBytecode,
};
