/**
 * Figures of chapter 02: the encodings of the adder, made from the bytes the reference
 * adderCode emits (so they show what the code produces, always).
 */
import { adderCode } from '../../../solutions/02-add-four/add-four.ts';
import { disassemble, hex, type DisasmLine } from '../../../native/disasm.ts';
import { ADD_SUB_IMMEDIATE, MOVE_WIDE, armFields, describe, modrmBits, rexBits, wordOf, x64Parts, type WordClass } from '../encodings.ts';
import { Drawing } from '../svg.ts';

/** The instructions of the reference adder for `k`, without the `mov rax, rdi` and `ret` around them. */
function adderBody(k: bigint, arch: 'x64' | 'arm64'): DisasmLine[] {
  const lines = disassemble(adderCode(k, arch), arch);
  return lines.filter((line) => line.mnemonic !== 'ret' && !(arch === 'x64' && line.text === 'mov rax, rdi'));
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

export const FIGURES_02: Readonly<Record<string, () => string>> = {
  'x64-add-imm8': x64AddImm8,
  'x64-adder-forms': x64AdderForms,
  'arm64-add-imm': arm64AddImm,
  'arm64-move-wide': arm64MoveWide,
};
