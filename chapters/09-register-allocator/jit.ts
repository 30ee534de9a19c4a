/**
 * Chapter 09: the optimizing tier's driver. Each function goes bytecode → SSA (chapter 08's
 * builder) → the optimizer's passes → register allocation → machine code, into one buffer
 * with chapter 07's entry stub, so the result runs exactly as a chapter 07 program does.
 *
 * Tiers mix per function: `tierOf` may send any function to chapter 07's template compiler
 * instead. Both tiers use the same labels, calling convention, frame shape and run state,
 * so a call between them is an ordinary direct call either way.
 *
 * The optimizing tier declines a function only when it cannot compile it (an IR operation
 * it has no code for); the function then goes to the template compiler, and `declined`
 * names it: never silently. A later chapter's level may also decline a function
 * (`level.machine.declines`: chapter 10 sends functions with a `try` to the template compiler).
 * A later chapter's operations reach this tier through `optimizingExtension` (codegen.ts).
 */
import { hostArch, type Arch } from '#native/arch.ts';
import type { Label } from '#ch04/macro-assembler.ts';
import { createMacroAssembler } from '#ch04/masm.ts';
import type { CompiledProgram } from '#ch06/bytecode.ts';
import { BaselineCompiler, CodeTables, CORE_JIT, jitRegisters, type JitLevel } from '#ch07/compiler.ts';
import { emitEntry, JitProgram } from '#ch07/jit.ts';
import { buildFunction } from '#ch08/build.ts';
import type { Func, IrProgram } from '#ch08/ir.ts';
import { optimizeFunction } from '#ch08/optimize.ts';
import { allocateFunction, allocatorRegisters, type AllocationDetails, type AllocatorRegisters } from './allocate.ts';
import { FunctionEmitter, optimizingExtension, type CodegenContext } from './codegen.ts';

export type Tier = 'baseline' | 'opt';

export interface OptimizingOptions {
  /** Hand out only this many registers (2, 3, 4 in the checks: spilling and move cycles forced). */
  readonly registers?: number;
  /** Which tier compiles each function (default: all optimized). */
  readonly tierOf?: (name: string) => Tier;
  /** Sees the IR of each function after each pass (`--emit-ir`). */
  readonly onPass?: (fn: string, pass: string, ir: Func) => void;
  /** Sees each allocation (the checks run the allocation checker on it). */
  readonly onAllocated?: (ir: Func, details: AllocationDetails) => void;
  /** The language level's JIT hooks (default: chapter 07's). */
  readonly level?: JitLevel;
}

export interface OptimizedProgram {
  readonly jit: JitProgram;
  /** Functions the optimizing tier was asked to compile and could not, with why. */
  readonly declined: readonly { readonly name: string; readonly reason: string }[];
  /** The functions the optimizing tier compiled. */
  readonly optimized: readonly string[];
}

// @book:start compile-optimized
/** Compiles `program` for `arch`, every function with the optimizing tier unless `tierOf` says otherwise. */
export function compileOptimized(program: CompiledProgram, arch: Arch = hostArch(), options: OptimizingOptions = {}): OptimizedProgram {
  const masm = createMacroAssembler(arch);
  const entries: Label[] = program.functions.map((fn) => masm.newLabel(fn.name));
  const indexOf = new Map(program.functions.map((fn, i) => [fn.name, i]));
  const registers = allocatorRegisters(masm, options.registers);
  const level = options.level ?? CORE_JIT;
  const tables = new CodeTables();
  const extension = optimizingExtension(level);
  (level.entry ?? emitEntry)(masm, entries[program.main]!, tables);

  // SSA for every function first: the verifier and the passes see the whole program's signatures.
  // A function the level declines is not built: its signature alone stands for it.
  const declined: { name: string; reason: string }[] = [];
  const ir = new Map<string, Func>();
  for (const fn of program.functions) {
    const reason = level.machine.declines?.(program, fn.index);
    if (reason === undefined) ir.set(fn.name, buildFunction(fn, program, extension?.build));
    else {
      const irType = extension?.build.irType ?? ((type: string) => type);
      ir.set(fn.name, { name: fn.name, params: fn.params.map((type, i) => ({ name: `p${i}`, type: irType(type) })), returnType: irType(fn.returnType), blocks: [], nextValue: 0, nextBlock: 0 });
      if ((options.tierOf?.(fn.name) ?? 'opt') === 'opt') declined.push({ name: fn.name, reason });
    }
  }
  const irProgram: IrProgram = { functions: ir, main: program.functions[program.main]!.name };
  const optimized: string[] = [];
  for (const fn of program.functions) {
    if ((options.tierOf?.(fn.name) ?? 'opt') === 'opt' && !declined.some((d) => d.name === fn.name)) {
      const start = masm.size;
      try {
        optimizeAndEmit(ir.get(fn.name)!, {
          masm, entries, indexOf, functionIndex: fn.index, level, tables, program: irProgram, registers,
          onPass: (pass, f) => options.onPass?.(fn.name, pass, f),
          ...(options.onAllocated ? { onAllocated: options.onAllocated } : {}),
        });
        optimized.push(fn.name);
        continue;
      } catch (error) {
        // An unfinished TODO, or half-emitted code (which cannot be taken back), is not a reason to decline.
        if ((error as Error).name === 'NotImplemented' || masm.size !== start) throw error;
        declined.push({ name: fn.name, reason: (error as Error).message });
      }
    }
    new BaselineCompiler(masm, fn, program, entries, jitRegisters(masm), level, tables).compile();
  }
  const code = masm.finish();
  const offsets = program.functions.map((fn, i) => ({ name: fn.name, offset: entries[i]!.offset! }));
  return { jit: new JitProgram(program, arch, code, offsets, () => masm.listing(), level, tables), declined, optimized };
}
// @book:end compile-optimized

/** What one function's way through the optimizing tier needs besides its SSA. */
export interface OptimizeSite extends CodegenContext {
  /** The whole program's signatures (the verifier's view). */
  readonly program: IrProgram;
  readonly registers: AllocatorRegisters;
  readonly onPass?: (pass: string, ir: Func) => void;
  readonly onAllocated?: (ir: Func, details: AllocationDetails) => void;
}

/**
 * One function's SSA through the rest of the optimizing tier: the optimizer's passes, register
 * allocation and code generation, with the level's extension at each step. Chapter 12
 * compiles one function at a time with it while the program runs.
 */
export function optimizeAndEmit(ir: Func, site: OptimizeSite): void {
  const extension = optimizingExtension(site.level);
  const optimizedIr = optimizeFunction(ir, { program: site.program, ...(extension ? { ops: extension.ops } : {}), ...(site.onPass ? { onPass: site.onPass } : {}) });
  const details = allocateFunction(optimizedIr, site.registers, extension?.allocation);
  extension?.allocated?.(optimizedIr, details);
  site.onAllocated?.(optimizedIr, details);
  new FunctionEmitter(details.allocated, site).emit();
}
