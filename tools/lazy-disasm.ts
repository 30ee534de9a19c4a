/**
 * The direct entry's stand-in for native/disasm.ts (build.mjs puts it in that module's place
 * in the bundle): capstone's WebAssembly takes about 20 ms to load, a fifth of a start, and
 * most runs never disassemble. It is loaded by `loadDisassembler`, which the command line
 * calls before anything that shows machine code (`--emit-asm`, the REPL's `:disasm`); until
 * then a listing cannot be made, and says so.
 */
import type * as Disasm from '../native/disasm.ts';

export type { DisasmLine } from '../native/disasm.ts';

let loaded: typeof Disasm | undefined;

/** Loads capstone (once): from then on `disassemble` works. */
export async function loadDisassembler(): Promise<void> {
  loaded ??= await import('../native/disasm.ts');
}

function disassembler(): typeof Disasm {
  if (loaded === undefined) throw new Error('the disassembler is not loaded: the command line calls loadDisassembler() before it shows machine code');
  return loaded;
}

export function disassemble(...args: Parameters<typeof Disasm.disassemble>): ReturnType<typeof Disasm.disassemble> {
  return disassembler().disassemble(...args);
}

export function formatDisassembly(...args: Parameters<typeof Disasm.formatDisassembly>): ReturnType<typeof Disasm.formatDisassembly> {
  return disassembler().formatDisassembly(...args);
}

/** Bytes as two-digit hex, space-separated (no capstone needed). */
export function hex(bytes: Uint8Array | readonly number[]): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
