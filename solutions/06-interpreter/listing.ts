/**
 * Chapter 06: the bytecode listing, for people (and for `:disasm` in chapter 12).
 *
 *   == fib (params 1, locals 1, max stack 3) ==
 *   0000     2  load 0
 *   0002     |  const 0             ; 2
 *   0005     |  lt
 *   0006     |  jump_if_false 0014
 *   0009     3  load 0
 *   …
 *   0018     5  call 0 1            ; fib
 *
 * The format, exactly:
 *   - a header `== NAME (params P, locals L, max stack S) ==`;
 *   - one row per instruction: its offset as 4 decimal digits, two spaces, its source line
 *     right-aligned in 4 columns (or `   |` when the line is the same as the row above),
 *     two spaces, then the opcode's name and its operands separated by single spaces;
 *     jump targets are written like offsets, as 4 digits;
 *   - `const` and `call` rows end with a comment: that text padded with spaces to 20
 *     characters, then `; ` and the constant's value or the callee's name.
 * Rows are joined with `\n`, with no newline at the end.
 */
import { CORE_OPCODES, lineAt, readU16, type CompiledFunction, type CompiledProgram, type OpcodeSet } from './bytecode.ts';

export function listFunction(fn: CompiledFunction, functions: readonly CompiledFunction[] = [], opcodes: OpcodeSet = CORE_OPCODES): string {
  const rows = [`== ${fn.name} (params ${fn.params.length}, locals ${fn.locals}, max stack ${fn.maxStack}) ==`];
  let previousLine = -1;
  let pc = 0;
  while (pc < fn.code.length) {
    const opcode = fn.code[pc]!;
    const info = opcodes.byCode[opcode];
    if (info === undefined) {
      rows.push(`${offsetText(pc)}  ???? unknown opcode 0x${opcode.toString(16)}`);
      break;
    }
    const operands: number[] = [];
    let at = pc + 1;
    for (const kind of info.operands) {
      operands.push(kind === 'u8' ? fn.code[at]! : readU16(fn.code, at));
      at += kind === 'u8' ? 1 : 2;
    }

    const line = lineAt(fn, pc);
    const lineText = line === previousLine ? '|' : String(line);
    previousLine = line;

    const isJump = info.name === 'jump' || info.name === 'jump_if_false';
    let text = [info.name, ...operands.map((n) => (isJump ? offsetText(n) : String(n)))].join(' ');
    if (info.name === 'const') text = `${text.padEnd(20)}; ${fn.constants[operands[0]!]}`;
    if (info.name === 'call') text = `${text.padEnd(20)}; ${functions[operands[0]!]?.name ?? '?'}`;

    rows.push(`${offsetText(pc)}  ${lineText.padStart(4)}  ${text}`);
    pc = at;
  }
  return rows.join('\n');
}

/** Every function's listing, separated by blank lines; `opcodes` names a later chapter's opcodes too. */
export function listProgram(program: CompiledProgram, opcodes: OpcodeSet = CORE_OPCODES): string {
  return program.functions.map((fn) => listFunction(fn, program.functions, opcodes)).join('\n\n');
}

/** An offset as the listing writes it: 4 decimal digits. */
export function offsetText(offset: number): string {
  return String(offset).padStart(4, '0');
}
