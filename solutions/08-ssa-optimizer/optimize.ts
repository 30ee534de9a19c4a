/**
 * Chapter 08: the optimizer, the passes in the order they help each other.
 *
 *   sccp → copies → gvn → dce → cfg      the cleanup round: constants, branches, duplicates
 *   licm → strength → copies → gvn → dce → cfg
 *                                         then loops, cheaper arithmetic, and cleanup again
 *
 * With `verifyEach`, the verifier runs after every pass and names the pass that broke the
 * IR; `onPass` sees the IR after each pass (for `--emit-ir` and for checks).
 */
import type { Func, IrProgram } from './ir.ts';
import { CORE_OPS, type OpTable } from './ops.ts';
import { copyPropagation } from './passes/copy-propagation.ts';
import { deadCodeElimination } from './passes/dead-code.ts';
import { loopInvariantCodeMotion } from './passes/licm.ts';
import { sccp } from './passes/sccp.ts';
import { simplifyCfg } from './passes/simplify-cfg.ts';
import { strengthReduction } from './passes/strength-reduction.ts';
import { globalValueNumbering } from './passes/value-numbering.ts';
import { verify } from './verifier.ts';

export interface Pass {
  readonly name: string;
  readonly run: (fn: Func, ops: OpTable) => Func;
}

export const PASSES: Readonly<Record<string, Pass>> = {
  sccp: { name: 'sccp', run: (fn, ops) => sccp(fn, ops) },
  copies: { name: 'copies', run: (fn) => copyPropagation(fn) },
  gvn: { name: 'gvn', run: (fn, ops) => globalValueNumbering(fn, ops) },
  dce: { name: 'dce', run: (fn, ops) => deadCodeElimination(fn, ops) },
  cfg: { name: 'cfg', run: (fn) => simplifyCfg(fn) },
  licm: { name: 'licm', run: (fn, ops) => loopInvariantCodeMotion(fn, ops) },
  strength: { name: 'strength', run: (fn) => strengthReduction(fn) },
};

// @book:start pipeline
export const PIPELINE: readonly Pass[] = ['sccp', 'copies', 'gvn', 'dce', 'cfg', 'licm', 'strength', 'copies', 'gvn', 'dce', 'cfg'].map((n) => PASSES[n]!);
// @book:end pipeline

export interface OptimizeOptions {
  readonly ops?: OpTable;
  readonly pipeline?: readonly Pass[];
  readonly verifyEach?: boolean;
  readonly program?: IrProgram;
  readonly onPass?: (pass: string, fn: Func) => void;
}

export function optimizeFunction(fn: Func, options: OptimizeOptions = {}): Func {
  const ops = options.ops ?? CORE_OPS;
  let current = fn;
  for (const pass of options.pipeline ?? PIPELINE) {
    current = pass.run(current, ops);
    if (options.verifyEach) verify(current, { ops, after: pass.name, ...(options.program ? { program: options.program } : {}) });
    options.onPass?.(pass.name, current);
  }
  return current;
}

export function optimizeProgram(program: IrProgram, options: OptimizeOptions = {}): IrProgram {
  const functions = new Map<string, Func>();
  for (const [name, fn] of program.functions) functions.set(name, optimizeFunction(fn, { ...options, program }));
  return { functions, main: program.main };
}
