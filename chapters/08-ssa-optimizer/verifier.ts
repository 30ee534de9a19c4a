/**
 * Chapter 08: the IR verifier.
 *
 * Every pass must leave well-formed SSA behind; the verifier says where one did not, so a
 * broken pass is caught at the pass, not three passes later as a wrong answer. It checks:
 *
 *   structure   every block ends in exactly one terminator, phis come first, successors
 *               exist, operand counts fit the operation, every value is defined once
 *   SSA         every operand is defined, and every use is dominated by its definition
 *               (a phi operand: at the end of the predecessor it comes from); the entry
 *               block has no predecessors
 *   phis        one operand per predecessor, each predecessor named once
 *   types       each instruction's type follows its operation's type rule; `return`
 *               returns the function's type; `param i` has parameter i's type; a call
 *               matches its callee's signature (when the program is given)
 *
 * Each problem is one line: where (`b3: v7 = add v2, v5`) and what is wrong. Unreachable
 * blocks are checked for structure and types but not for dominance.
 */
import { dominatorTree } from './dominators.ts';
import { VOID, predecessors, type Func, type Inst, type IrProgram } from './ir.ts';
import { CORE_OPS, type OpTable } from './ops.ts';
import { printInst } from './printer.ts';
import { todo } from '#native/todo.ts';

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly problems: readonly string[];
  constructor(fn: string, problems: readonly string[], after?: string) {
    super(`IR of '${fn}'${after ? ` after ${after}` : ''} is not well-formed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Where an instruction is, as problems name it: `b3: v7 = add v2, v5`. */
export function placeOf(block: number, inst: Inst): string {
  return `b${block}: ${printInst(inst)}`;
}

/** The problems found in `fn` (empty when it is well-formed). */
export function verifyProblems(fn: Func, program?: IrProgram, ops: OpTable = CORE_OPS): string[] {
  const structure = structureProblems(fn, ops);
  if (structure.length > 0) return structure; // the rest assumes a sound structure
  return [...ssaProblems(fn), ...typeProblems(fn, program, ops)];
}

/** Blocks, terminators, phis first, operand counts, successors, single definitions. */
export function structureProblems(fn: Func, ops: OpTable = CORE_OPS): string[] {
  const problems: string[] = [];
  if (fn.blocks.length === 0) return ['the function has no blocks'];
  const ids = new Set<number>();
  for (const block of fn.blocks) {
    if (ids.has(block.id)) problems.push(`b${block.id}: defined twice`);
    ids.add(block.id);
  }
  const defined = new Set<number>();
  for (const block of fn.blocks) {
    if (block.insts.length === 0) problems.push(`b${block.id}: is empty (a block ends in a terminator)`);
    block.insts.forEach((inst, i) => {
      const where = placeOf(block.id, inst);
      const info = ops.get(inst.op);
      if (info === undefined) return problems.push(`${where}: unknown operation '${inst.op}'`);
      const last = i === block.insts.length - 1;
      if (info.terminator && !last) problems.push(`${where}: a terminator in the middle of the block`);
      if (last && !info.terminator) problems.push(`${where}: the block does not end in a terminator`);
      if (inst.op === 'phi' && i > 0 && block.insts[i - 1]!.op !== 'phi') problems.push(`${where}: a phi after an ordinary instruction`);
      if (info.arity >= 0 && inst.args.length !== info.arity) problems.push(`${where}: ${inst.op} takes ${info.arity} operands, found ${inst.args.length}`);
      for (const t of inst.targets ?? []) if (!ids.has(t)) problems.push(`${where}: b${t} does not exist`);
      if (defined.has(inst.id)) problems.push(`${where}: v${inst.id} is defined twice`);
      defined.add(inst.id);
    });
  }
  return problems;
}

/**
 * Definitions dominate uses, phis match predecessors, the entry has no predecessors.
 * Assumes the structure is sound (structureProblems found nothing).
 */
export function ssaProblems(fn: Func): string[] {
  // TODO: one line per problem, `${placeOf(block, inst)}: what is wrong`:
  //   - the entry block has predecessors
  //   - an operand that is never defined, or defined in an unreachable block
  //   - a use its definition does not dominate: in the same block the definition must come
  //     first; in another block, the definition's block must dominate the use's block
  //   - a phi operand that does not dominate the END of the predecessor it comes from
  //   - a phi whose predecessors (inst.preds) are not exactly the block's predecessors
  // Skip blocks the entry cannot reach (dominatorTree(fn).reachable).
  return todo('ssaProblems');
}

/** Each instruction's type against its operation's type rule, returns, params and calls. */
export function typeProblems(fn: Func, program?: IrProgram, ops: OpTable = CORE_OPS): string[] {
  const problems: string[] = [];
  const types = new Map<number, string>();
  for (const block of fn.blocks) for (const inst of block.insts) types.set(inst.id, inst.type);
  const entry = fn.blocks[0];
  for (const block of fn.blocks) {
    for (const inst of block.insts) {
      const say = (what: string) => problems.push(`${placeOf(block.id, inst)}: ${what}`);
      const info = ops.get(inst.op)!;
      const operandTypes = inst.args.map((a) => types.get(a) ?? '?');
      const rule = info.typeRule(operandTypes, inst);
      if (typeof rule !== 'string') say(rule.error);
      else if (rule !== inst.type) say(`has type ${inst.type}, but ${inst.op} of ${operandTypes.join(', ') || 'nothing'} gives ${rule}`);
      if (inst.op === 'return' && operandTypes[0] !== fn.returnType) say(`returns ${operandTypes[0]} from a function that returns ${fn.returnType}`);
      if (inst.op === 'param') {
        const param = fn.params[Number(inst.imm)];
        if (param === undefined) say(`there is no parameter ${inst.imm}`);
        else if (param.type !== inst.type) say(`parameter ${inst.imm} has type ${param.type}`);
        if (block !== entry) say('a param outside the entry block');
      }
      if (inst.op === 'call' && program !== undefined) {
        const callee = program.functions.get(inst.callee ?? '');
        if (callee === undefined) say(`no function '${inst.callee}'`);
        else {
          if (callee.returnType !== inst.type) say(`'${inst.callee}' returns ${callee.returnType}`);
          const wanted = callee.params.map((p) => p.type).join(', ');
          if (wanted !== operandTypes.join(', ')) say(`'${inst.callee}' takes (${wanted})`);
        }
      }
      if (inst.type !== VOID && (info.terminator || inst.op === 'print')) say(`${inst.op} produces no value`);
    }
  }
  return problems;
}

/** Throws `VerifyError` listing every problem, naming the pass that ran last if given. */
export function verify(fn: Func, options: { program?: IrProgram; ops?: OpTable; after?: string } = {}): void {
  const problems = verifyProblems(fn, options.program, options.ops);
  if (problems.length > 0) throw new VerifyError(fn.name, problems, options.after);
}
