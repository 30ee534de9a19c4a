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
import { todo } from '#native/todo.ts';

export function listFunction(fn: CompiledFunction, functions: readonly CompiledFunction[] = [], opcodes: OpcodeSet = CORE_OPCODES): string {
  // TODO: the header, then one row per instruction: decode the opcode with opcodes.byCode,
  // its operands (u8: one byte; u16: readU16), the line with lineAt, and format as described
  // above. offsetText formats offsets and jump targets.
  void [opcodes, lineAt, readU16];
  return todo('listFunction');
}

/** Every function's listing, separated by blank lines; `opcodes` names a later chapter's opcodes too. */
export function listProgram(program: CompiledProgram, opcodes: OpcodeSet = CORE_OPCODES): string {
  return program.functions.map((fn) => listFunction(fn, program.functions, opcodes)).join('\n\n');
}

/** An offset as the listing writes it: 4 decimal digits. */
export function offsetText(offset: number): string {
  return String(offset).padStart(4, '0');
}
