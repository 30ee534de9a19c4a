/**
 * Loop-invariant code motion: a computation whose operands do not change inside a loop is
 * done once, before the loop, instead of on every iteration.
 *
 *   before                         after
 *   b1:  ; loop header             b5:  ; preheader
 *     v2 = phi int [b0: v1], …       v7 = mul v3, v4      ; v3 and v4 come from outside
 *     …                              jump b1
 *   b2:  ; loop body               b1:
 *     v7 = mul v3, v4                v2 = phi int [b5: v1], …
 *     v8 = add v2, v7              b2:
 *                                    v8 = add v2, v7
 *
 * Each loop first gets a *preheader*: a block that is the header's only predecessor from
 * outside the loop, where hoisted code goes. Then, inner loops first, every instruction
 * that is a pure function of values defined outside the loop (or already hoisted) moves to
 * the end of the preheader. An instruction that may raise an error never moves: a loop may
 * run zero times, and `x / y` hoisted out of it would fail where the program did not. (A
 * division by a constant other than zero cannot fail, and may move.)
 */
import { dominatorTree } from '../dominators.ts';
import { cloneFunction, definitions, makeInst, newBlock, predecessors, reversePostorder, type Func, type Inst } from '../ir.ts';
import { findLoops } from '../loops.ts';
import { CORE_OPS, isPure, opInfo, type OpTable } from '../ops.ts';
import { cannotThrow } from './dead-code.ts';
import { todo } from '#native/todo.ts';

export function loopInvariantCodeMotion(input: Func, ops: OpTable = CORE_OPS): Func {
  // TODO: on a clone, give every loop a preheader (addPreheader, loops from findLoops), then
  // recompute the dominator tree and the loops. For each loop, innermost first, with the
  // preheader = idom of the header: visit the loop's blocks in reverse postorder and move to
  // the end of the preheader (before its jump) every instruction that
  //   - is pure (isPure), or may fail but cannot here (cannotThrow) and has no side effect,
  //   - and has no operand defined inside the loop (hoisted ones count as outside).
  return todo('loopInvariantCodeMotion');
}

/** Makes sure `header` has exactly one predecessor outside `body`, ending in a jump to it. */
function addPreheader(fn: Func, header: number, body: ReadonlySet<number>): void {
  const preds = predecessors(fn).get(header) ?? [];
  const outside = preds.filter((p) => !body.has(p));
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  if (outside.length === 1) {
    const only = byId.get(outside[0]!)!;
    const last = only.insts.at(-1)!;
    if (last.op === 'jump') return; // already a preheader
  }
  const pre = newBlock(fn);
  const target = byId.get(header)!;
  // Phi operands from outside move to the preheader (merged by a phi there if several).
  for (const phi of target.insts) {
    if (phi.op !== 'phi') break;
    const from = phi.preds!.map((p, k) => ({ p, v: phi.args[k]! })).filter((e) => !body.has(e.p));
    let value = from[0]!.v;
    if (from.length > 1) {
      const merged = makeInst(fn, { op: 'phi', type: phi.type, args: from.map((e) => e.v), preds: from.map((e) => e.p) });
      pre.insts.push(merged);
      value = merged.id;
    }
    const keep = phi.preds!.map((p, k) => ({ p, v: phi.args[k]! })).filter((e) => body.has(e.p));
    phi.preds = [pre.id, ...keep.map((e) => e.p)];
    phi.args = [value, ...keep.map((e) => e.v)];
  }
  pre.insts.push(makeInst(fn, { op: 'jump', type: 'void', targets: [header] }));
  for (const p of outside) {
    const last = byId.get(p)!.insts.at(-1)!;
    last.targets = last.targets!.map((t) => (t === header ? pre.id : t));
  }
}
