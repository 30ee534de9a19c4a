/**
 * Global value numbering over the dominator tree: two instructions that compute the same
 * operation on the same operands give the same value, so the second is replaced by the
 * first, wherever the first dominates it.
 *
 *   before                         after
 *   b0:                            b0:
 *     v3 = add v1, v2                v3 = add v1, v2
 *     branch v9, b1, b2              branch v9, b1, b2
 *   b1:                            b1:
 *     v4 = add v2, v1                print v3            ; add is commutative: same value
 *     print v4
 *
 * The walk goes down the dominator tree with a scoped table: entering a block adds its
 * instructions' keys, leaving it forgets them, so a value is only reused where its
 * definition dominates. A key is the operation, the type, the constant, and the operands
 * (sorted for a commutative operation) after replacement. Only operations that are pure
 * functions of their operands take part, and divisions too: a second `a / b` dominated by
 * a first one that did not fail cannot fail either.
 */
import { dominatorTree } from '../dominators.ts';
import { cloneFunction, type Func, type Inst } from '../ir.ts';
import { CORE_OPS, isPure, opInfo, type OpTable } from '../ops.ts';
import { todo } from '#native/todo.ts';

function key(inst: Inst, ops: OpTable): string | undefined {
  const info = opInfo(ops, inst.op);
  const divides = inst.op === 'div' || inst.op === 'mod';
  if (!isPure(info) && !divides && inst.op !== 'const') return undefined;
  const args = info.commutative ? [...inst.args].sort((a, b) => a - b) : inst.args;
  return `${inst.op}:${inst.type}:${inst.imm ?? ''}:${args.join(',')}`;
}

export function globalValueNumbering(input: Func, ops: OpTable = CORE_OPS): Func {
  // TODO: on a clone, walk the dominator tree (dominatorTree(fn).children) from the entry
  // with an explicit stack. In each block, first replace operands already found equal,
  // then look each instruction's key(inst, ops) up: found → remember the replacement and
  // drop the instruction; not found → add the key. Leaving a block removes the keys it
  // added. Finally replace operands once more everywhere (phis read values from blocks
  // the walk may reach later).
  return todo('globalValueNumbering');
}
