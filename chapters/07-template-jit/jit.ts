/**
 * Chapter 07: the driver. Compiles a whole program into one piece of machine code, loads it
 * into a `CodeRegion`, and runs it.
 *
 *   offset 0          the entry stub: TypeScript calls it once per run
 *   then              every function, in program order, each at its own label
 *
 * Because all functions share one buffer, a call between them is a plain machine `call`
 * (`bl` on AArch64) to a label: TypeScript is entered exactly once per run, and left only
 * for the runtime's callbacks (printing, runtime errors).
 */
import { hostArch, type Arch } from '#native/arch.ts';
import { CodeRegion } from '#ch01/code-region.ts';
import type { ListingLine, MacroAssembler } from '#ch04/macro-assembler.ts';
import { createMacroAssembler } from '#ch04/masm.ts';
import type { CompiledProgram } from '#ch06/bytecode.ts';
import type { RuntimeError } from '#ch06/interpreter.ts';
import { BaselineCompiler, CodeTables, CORE_JIT, jitRegisters, type JitLevel, type RunState } from './compiler.ts';
import { CONTEXT, Runtime } from './runtime.ts';

export interface JitRunOptions {
  /** Receives each printed line, without its newline. Default: `console.log`. */
  readonly print?: (text: string) => void;
}

export interface JitRunResult {
  /** What `main` returned (absent after a runtime error). */
  readonly result?: bigint;
  /** The runtime error the program stopped with. */
  readonly error?: RuntimeError;
}

/** Where each function's code starts. */
export interface FunctionOffset {
  readonly name: string;
  readonly offset: number;
}

/**
 * The entry stub, the one function TypeScript calls: `int64_t entry(void *context)`.
 * It saves the two registers compiled code gives a meaning to (callee-saved in the ABI),
 * sets them up (the context, and the run state cached from it, where TypeScript put it),
 * calls `main`, writes the cached run state back to the context, and restores the registers.
 */
export function emitEntry(masm: MacroAssembler, main: ReturnType<MacroAssembler['newLabel']>): void {
  const r = jitRegisters(masm);
  masm.comment('entry: save the registers compiled code owns');
  masm.prologue(0, [r.ctx, r.callsLeft]);
  masm.move(r.ctx, masm.regs.args[0]!);
  masm.load(r.callsLeft, r.ctx, CONTEXT.callsLeft);
  masm.call(main);
  masm.store(r.callsLeft, r.ctx, CONTEXT.callsLeft);
  masm.epilogue();
}

/**
 * Compiles every function of `program` for `arch` (default: this machine's), with the
 * templates and hooks of `level` (default: this chapter's).
 */
export function compileProgram(program: CompiledProgram, arch: Arch = hostArch(), level: JitLevel = CORE_JIT): JitProgram {
  const masm = createMacroAssembler(arch);
  const registers = jitRegisters(masm);
  const entries = program.functions.map((fn) => masm.newLabel(fn.name));
  const tables = new CodeTables();
  (level.entry ?? emitEntry)(masm, entries[program.main]!, tables);
  for (const fn of program.functions) {
    new BaselineCompiler(masm, fn, program, entries, registers, level, tables).compile();
  }
  const code = masm.finish();
  const offsets = program.functions.map((fn, i) => ({ name: fn.name, offset: entries[i]!.offset! }));
  return new JitProgram(program, arch, code, offsets, () => masm.listing(), level, tables);
}

export class JitProgram {
  readonly program: CompiledProgram;
  readonly arch: Arch;
  /** The machine code: the entry stub at offset 0, then the functions. */
  readonly code: Uint8Array;
  readonly functions: readonly FunctionOffset[];
  /** How many times TypeScript called into the code, and the code back into TypeScript. */
  readonly stats = { entries: 0, callbacks: 0 };
  readonly level: JitLevel;
  /** What the level kept beside the code while compiling (chapter 10: unwind tables). */
  readonly tables: CodeTables;
  readonly #listing: () => ListingLine[];
  #region: CodeRegion | undefined;
  #context: CodeRegion | undefined;

  constructor(program: CompiledProgram, arch: Arch, code: Uint8Array, functions: readonly FunctionOffset[], listing: () => ListingLine[], level: JitLevel = CORE_JIT, tables: CodeTables = new CodeTables()) {
    this.program = program;
    this.arch = arch;
    this.code = code;
    this.functions = functions;
    this.#listing = listing;
    this.level = level;
    this.tables = tables;
  }

  /** Runs `main`. A runtime error is returned, not thrown; output printed before it stays printed. */
  run(options: JitRunOptions = {}): JitRunResult {
    if (this.arch !== hostArch()) {
      throw new Error(`this program was compiled for ${this.arch}; it cannot run on ${hostArch()} (list it instead)`);
    }
    if (this.#region === undefined) {
      this.#region = CodeRegion.allocate(this.code.length);
      this.#region.write(0, this.code);
      this.#region.seal();
      this.#context = CodeRegion.allocate(Math.max(CONTEXT.size, this.level.layout.size)); // stays writable: plain data
    }
    const runtime = new Runtime(this.program, this.#context!, { print: options.print ?? ((text) => console.log(text)), errors: this.level.errors });
    const entry = this.#region.function(0, 1);
    const run: RunState = { program: this, code: this.#region, runtime };
    let result: bigint;
    runtime.open();
    try {
      this.level.beforeRun?.(this.#context!, run);
      this.stats.entries++;
      result = entry(this.#context!.address);
    } finally {
      this.level.afterRun?.(this.#context!, run);
      runtime.close();
      this.stats.callbacks += runtime.callbacks;
    }
    if (runtime.hostError !== undefined) throw runtime.hostError;
    return runtime.error ? { error: runtime.error } : { result };
  }

  /** The machine code with the bytecode instruction each piece comes from, function by function. */
  listing(): string {
    const starts = new Map(this.functions.map((f) => [f.offset, f.name]));
    const lines = this.#listing();
    const bytesWidth = Math.max(8, ...lines.map((l) => hex(l.bytes).length));
    const textWidth = Math.max(24, ...lines.map((l) => l.text.length));
    const rows: string[] = ['== entry =='];
    for (const line of lines) {
      const name = starts.get(line.offset);
      if (name !== undefined) rows.push('', `== ${name} ==`);
      const head = `${line.offset.toString(16).padStart(4, '0')}  ${hex(line.bytes).padEnd(bytesWidth)}  `;
      rows.push(line.comment === undefined ? `${head}${line.text}`.trimEnd() : `${head}${line.text.padEnd(textWidth)}  ; ${line.comment}`);
    }
    return rows.join('\n');
  }

  /** Unmaps the code and the context. The program cannot run afterwards. */
  dispose(): void {
    this.#region?.dispose();
    this.#context?.dispose();
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
