/**
 * Chapter 12: on-stack replacement into the optimizing tier.
 *
 * A loop that runs hot in a frame of the interpreter or of the baseline tier moves to
 * optimized code without waiting for the function's next call. The optimizing tier compiles,
 * for one function and one loop header, an *OSR variant*: the function's code entered at the
 * header, with every local coming from the transfer buffer. Its IR (chapter 08's builder,
 * given an OsrEntry) is the function's own with one more way in:
 *
 *   entry:     v1 = const true; branch v1, osr, start
 *   osr:       x0 = osr_local 0; x1 = osr_local 1; …; jump header
 *   start:     … the function from its first instruction (the ordinary way in) …
 *   header:    every variable a phi of what comes from start, from osr and from the back edges
 *
 * The phis give each `osr_local` the type the ordinary build gives the variable at the
 * header (an array local is a `ref`, so it lands in the stack maps); constant propagation
 * then removes the ordinary way in, and what is left is the entry block reading the locals
 * and jumping to the header: a loop the optimizer sees whole, its invariants hoisted to the
 * new entry.
 *
 * The variant is an ordinary optimized function in every other respect: its own label
 * (recursive calls still go through the function's dispatch stub), its prologue with the
 * stack-limit check, its unwind rows and stack maps under the function's index. It is
 * called, or jumped to in place of a call, with the function's caller as its caller: when it
 * returns, the function has returned.
 *
 *   `osr_local i`   result = [[ctx + transfer] + 8 i]
 *
 * Two ways in:
 *   - from the interpreter's back edge (`tier_loop`) once the function is optimized: the VM
 *     copies the frame's locals to the transfer buffer and calls the variant through the
 *     tiered entry stub, as it calls any compiled code;
 *   - from a baseline back edge whose countdown reached zero (countdown.ts): the back edge
 *     copies its locals to the transfer buffer, removes its own frame and jumps to the
 *     variant, which so returns to the baseline frame's caller.
 *
 * A header with values on the operand stack (a loop inside an expression) has no variant:
 * the stack values have no variable to live in at the header; the loop stays where it is.
 */
import type { Label, MacroAssembler } from '#ch04/macro-assembler.ts';
import type { CompiledFunction, CompiledProgram } from '#ch06/bytecode.ts';
import type { CodeTables, JitLevel } from '#ch07/compiler.ts';
import { buildFunction, type OsrEntry } from '#ch08/build.ts';
import type { IrProgram } from '#ch08/ir.ts';
import { extendOps, type OpInfo } from '#ch08/ops.ts';
import { allocatorRegisters } from '#ch09/allocate.ts';
import { optimizingExtension, type OptimizingExtension } from '#ch09/codegen.ts';
import { optimizeAndEmit } from '#ch09/jit.ts';
import { TX } from './stubs.ts';

/** The IR operation that reads local `imm` of an OSR variant from the transfer buffer. */
export const OSR_LOCAL = 'osr_local';

const osrLocal: OpInfo = {
  name: OSR_LOCAL,
  arity: 0,
  // It reads memory (the transfer buffer, valid only until the first call): never moved, removed when unused.
  effects: { reads: true },
  typeRule: (_, inst) => inst.type,
};

/** The optimizing tier's extension of `base` with `osr_local`. */
export function osrOptimizing(base: OptimizingExtension): OptimizingExtension {
  return {
    ...base,
    ops: extendOps(base.ops, [osrLocal]),
    emitWith: new Map([
      ...(base.emitWith ?? []),
      [OSR_LOCAL, (site, mi, code) => {
        const { masm, registers } = site;
        masm.comment(`local ${mi.inst.imm} from the transfer buffer`);
        masm.load(code.result, registers.ctx, TX.transfer!);
        masm.load(code.result, code.result, 8 * Number(mi.inst.imm));
      }],
    ]),
  };
}

/** The OsrEntry of the variant at bytecode offset `header`. */
export function osrEntryAt(header: number): OsrEntry {
  return { header, value: (variable) => ({ op: OSR_LOCAL, type: '?', imm: BigInt(variable) }) };
}

/** What compiling a function in the optimizing tier needs of the VM. */
export interface OptimizingSite {
  readonly masm: MacroAssembler;
  readonly program: CompiledProgram;
  /** The IR signatures of every function (the verifier's view of the program). */
  readonly signatures: IrProgram;
  readonly level: JitLevel;
  readonly tables: CodeTables;
  /** The label each call of function i goes to. */
  readonly entries: readonly Label[];
}

/**
 * Compiles `fn` (or its OSR variant at `osr`) with chapters 08–09's pipeline: SSA, then
 * chapter 09's optimizeAndEmit, the code starting at `start`. Throws before emitting anything
 * when the tier cannot compile it.
 */
export function compileOptimizing(site: OptimizingSite, fn: CompiledFunction, start: Label, osr?: OsrEntry): void {
  const { masm, level, program } = site;
  const ir = buildFunction(fn, program, optimizingExtension(level)?.build, osr);
  const indexOf = new Map(program.functions.map((f, i) => [f.name, i]));
  optimizeAndEmit(ir, { masm, entries: site.entries, indexOf, functionIndex: fn.index, level, tables: site.tables, start, program: site.signatures, registers: allocatorRegisters(masm) });
}
