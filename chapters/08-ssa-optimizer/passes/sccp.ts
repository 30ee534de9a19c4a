/**
 * Sparse conditional constant propagation (Wegman and Zadeck, "Constant Propagation with
 * Conditional Branches", 1991).
 *
 * Every value starts *unknown* (no evidence yet) and can only move down the lattice:
 *
 *       unknown
 *      /   |   \
 *    … const 3 …          one known constant
 *      \   |   /
 *      overdefined        can be more than one value
 *
 * and every CFG edge starts *not executable*. Two worklists drive it: an edge that becomes
 * executable makes its target's phis and (the first time) its instructions be evaluated; a
 * value that moves down makes its users be evaluated again. A phi takes the meet of its
 * operands over executable edges only, and a branch on a constant makes only one edge
 * executable. Being optimistic (unknown, not overdefined, until proven otherwise) is what
 * finds constants that flow around a loop:
 *
 *   before                                   after
 *   b1:                                      b1:
 *     v2 = phi int [b0: v1], [b2: v2]          jump b3      ; v2 is 7 on every executable edge
 *     v3 = lt v2, v9                         b3:
 *     branch v3, b2, b3                        v4 = const int 7
 *
 * A division by a constant zero is not folded: it stays, and raises its runtime error at
 * its line. A call is never folded.
 */
import { cloneFunction, predecessors, removePhiEdge, type Func, type Inst } from '../ir.ts';
import { CORE_OPS, DivisionByZero, type OpTable } from '../ops.ts';
import { todo } from '#native/todo.ts';

const OVERDEFINED = Symbol('overdefined');
type Lattice = bigint | typeof OVERDEFINED; // absent from the map: unknown

export function sccp(input: Func, ops: OpTable = CORE_OPS): Func {
  // TODO: on a clone (cloneFunction), with two worklists:
  //   value: Map<value number, bigint | OVERDEFINED> (absent: unknown)
  //   edges: executable CFG edges, starting with a pseudo-edge into the entry block
  // An edge that becomes executable: the first time its target is reached, evaluate all of
  // the target's instructions; after that, only its phis. A value that moves down the
  // lattice (unknown → constant → overdefined, never back): evaluate its users again.
  // Evaluating:
  //   const          its constant
  //   phi            the meet of its operands over executable incoming edges only
  //   branch         an unknown condition: nothing; a constant: that one edge; else both
  //   jump           its edge
  //   pure op        all operands constant: ops.get(op).evaluate (DivisionByZero:
  //                  overdefined, the instruction stays); any overdefined: overdefined
  //   anything else  overdefined (calls, side effects)
  // Then rewrite: each constant value becomes `const`, a branch with one executable edge
  // becomes a jump (removePhiEdge from the other target), phis stay first in their block,
  // blocks never reached go, and phis lose their operands from blocks that went.
  return todo('sccp');
}
