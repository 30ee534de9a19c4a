/**
 * Chapter 08: the IR verifier.
 *
 * Every pass must leave well-formed SSA behind; the verifier says where one did not, so a
 * broken pass is caught at the pass, not three passes later as a wrong answer. It checks:
 *
 *   structure   every block ends in exactly one terminator, phis come first, successors
 *               exist, the entry block has no predecessors
 *   SSA         every value is defined once, every operand is defined, and every use is
 *               dominated by its definition (a phi operand: at the end of its predecessor)
 *   phis        one operand per predecessor, each predecessor named once
 *   types       each instruction's type follows its operation's type rule; `return`
 *               returns the function's type; `param i` has parameter i's type; a call
 *               matches its callee's signature (when the program is given)
 *
 * Unreachable blocks are checked for structure and types but not for dominance.
 */
import { dominatorTree } from './dominators.ts';
import { VOID, predecessors, type Func, type Inst, type IrProgram } from './ir.ts';
import { CORE_OPS, type OpTable } from './ops.ts';
import { printInst } from './printer.ts';

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly problems: readonly string[];
  constructor(fn: string, problems: readonly string[], after?: string) {
    super(`IR of '${fn}'${after ? ` after ${after}` : ''} is not well-formed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The problems found in `fn` (empty when it is well-formed). */
export function verifyProblems(fn: Func, program?: IrProgram, ops: OpTable = CORE_OPS): string[] {
  const problems: string[] = [];
  const say = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const at = (block: number, inst: Inst) => `b${block}: ${printInst(inst)}`;

  if (fn.blocks.length === 0) return ['the function has no blocks'];
  const ids = new Set<number>();
  for (const block of fn.blocks) {
    if (ids.has(block.id)) say(`b${block.id}`, 'defined twice');
    ids.add(block.id);
  }

  // Structure, and where each value is defined.
  const defBlock = new Map<number, number>();
  const defIndex = new Map<number, number>();
  const types = new Map<number, string>();
  for (const block of fn.blocks) {
    if (block.insts.length === 0) {
      say(`b${block.id}`, 'is empty (a block ends in a terminator)');
      continue;
    }
    block.insts.forEach((inst, i) => {
      const info = ops.get(inst.op);
      if (info === undefined) return say(at(block.id, inst), `unknown operation '${inst.op}'`);
      const last = i === block.insts.length - 1;
      if (info.terminator && !last) say(at(block.id, inst), 'a terminator in the middle of the block');
      if (last && !info.terminator) say(at(block.id, inst), 'the block does not end in a terminator');
      if (inst.op === 'phi' && i > 0 && block.insts[i - 1]!.op !== 'phi') say(at(block.id, inst), 'a phi after an ordinary instruction');
      if (info.arity >= 0 && inst.args.length !== info.arity) say(at(block.id, inst), `${inst.op} takes ${info.arity} operands, found ${inst.args.length}`);
      for (const t of inst.targets ?? []) if (!ids.has(t)) say(at(block.id, inst), `b${t} does not exist`);
      if (defBlock.has(inst.id)) say(at(block.id, inst), `v${inst.id} is defined twice`);
      defBlock.set(inst.id, block.id);
      defIndex.set(inst.id, i);
      types.set(inst.id, inst.type);
    });
  }
  if (problems.length > 0) return problems;

  const preds = predecessors(fn);
  const entry = fn.blocks[0]!;
  if ((preds.get(entry.id) ?? []).length > 0) say(`b${entry.id}`, 'the entry block has predecessors (add a new entry that jumps to it)');

  const tree = dominatorTree(fn);
  /** Is the definition of `value` available at instruction index `index` of `block`? */
  const available = (value: number, block: number, index: number): boolean => {
    const d = defBlock.get(value)!;
    if (d === block) return defIndex.get(value)! < index;
    return tree.dominates(d, block);
  };

  for (const block of fn.blocks) {
    const blockPreds = preds.get(block.id) ?? [];
    const reachable = tree.reachable.has(block.id);
    block.insts.forEach((inst, i) => {
      const where = at(block.id, inst);
      inst.args.forEach((arg, k) => {
        if (!defBlock.has(arg)) return say(where, `v${arg} is never defined`);
        if (!reachable) return;
        if (inst.op === 'phi') {
          const pred = inst.preds?.[k];
          if (pred !== undefined && tree.reachable.has(pred) && !available(arg, pred, Infinity)) {
            say(where, `v${arg} does not dominate the end of b${pred}, where the phi takes it`);
          }
        } else if (tree.reachable.has(defBlock.get(arg)!) && !available(arg, block.id, i)) {
          say(where, `v${arg} is used where its definition does not dominate the use`);
        } else if (!tree.reachable.has(defBlock.get(arg)!)) {
          say(where, `v${arg} is defined in an unreachable block`);
        }
      });
      if (inst.op === 'phi') {
        const from = inst.preds ?? [];
        if (from.length !== inst.args.length) say(where, 'a phi needs a predecessor for each operand');
        const expected = [...blockPreds].sort((a, b) => a - b).join(',');
        const found = [...from].sort((a, b) => a - b).join(',');
        if (expected !== found) {
          say(where, `phi operands come from [${from.map((p) => `b${p}`).join(', ')}] but the predecessors are [${blockPreds.map((p) => `b${p}`).join(', ')}]`);
        }
      }
      // Types.
      const operandTypes = inst.args.map((a) => types.get(a) ?? '?');
      const rule = ops.get(inst.op)!.typeRule(operandTypes, inst);
      if (typeof rule !== 'string') say(where, rule.error);
      else if (rule !== inst.type) say(where, `has type ${inst.type}, but ${inst.op} of ${operandTypes.join(', ') || 'nothing'} gives ${rule}`);
      if (inst.op === 'return' && operandTypes[0] !== fn.returnType) say(where, `returns ${operandTypes[0]} from a function that returns ${fn.returnType}`);
      if (inst.op === 'param') {
        const param = fn.params[Number(inst.imm)];
        if (param === undefined) say(where, `there is no parameter ${inst.imm}`);
        else if (param.type !== inst.type) say(where, `parameter ${inst.imm} has type ${param.type}`);
        if (block !== entry) say(where, 'a param outside the entry block');
      }
      if (inst.op === 'call' && program !== undefined) {
        const callee = program.functions.get(inst.callee ?? '');
        if (callee === undefined) say(where, `no function '${inst.callee}'`);
        else {
          if (callee.returnType !== inst.type) say(where, `'${inst.callee}' returns ${callee.returnType}`);
          const wanted = callee.params.map((p) => p.type).join(', ');
          if (wanted !== operandTypes.join(', ')) say(where, `'${inst.callee}' takes (${wanted})`);
        }
      }
      if (inst.type !== VOID && (ops.get(inst.op)!.terminator || inst.op === 'print')) say(where, `${inst.op} produces no value`);
    });
  }
  return problems;
}

/** Throws `VerifyError` listing every problem, naming the pass that ran last if given. */
export function verify(fn: Func, options: { program?: IrProgram; ops?: OpTable; after?: string } = {}): void {
  const problems = verifyProblems(fn, options.program, options.ops);
  if (problems.length > 0) throw new VerifyError(fn.name, problems, options.after);
}
