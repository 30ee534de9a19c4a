/**
 * Chapter 09: liveness and live intervals.
 *
 * The allocator looks at the function as one straight line: the blocks in a fixed order
 * (reverse postorder, which puts a loop's header before its body), every instruction at a
 * *position*. Each block gets an index of its own, then each of its ordinary instructions:
 *
 *   block at index h        start = 2h      its phis (and the entry block's params) are defined here
 *   instruction at index j  2j              where it reads its operands
 *                           2j + 1          where it writes its result
 *   the block's end         2t + 1          t: its terminator; the moves to successors happen here
 *
 * Reading at even and writing at odd positions lets an operand that dies at an instruction
 * share its register with that instruction's result: the operand's interval ends at 2j,
 * the result's starts at 2j + 1, so the two do not overlap.
 *
 * A value's *live interval* is [first position, last position] where it is live: from its
 * definition to its last use, stretched over every block it is live through (a value used
 * in a loop and defined before it stays live to the end of the loop's last block). One
 * interval per value, no holes: the linear scan of Poletto and Sarkar works on these.
 *
 * Constants get no interval (they are immediates), and neither does a compare folded into
 * the branch that tests it: its operands are read by the branch instead.
 */
import { VOID, type Block, type Func, type Inst } from '#ch08/ir.ts';
import { definitions, successors } from '#ch08/ir.ts';
import { todo } from '#native/todo.ts';

/** Operations that call out: every caller-saved register is lost across them. */
export const CALLING_OPS: ReadonlySet<string> = new Set(['call', 'print']);

/** The comparisons a branch can test directly (a fused compare-and-branch). */
export const COMPARISONS: ReadonlySet<string> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export interface Numbering {
  /** The blocks in layout order (reverse postorder from the entry). */
  readonly order: readonly Block[];
  /** The index j of every ordinary (non-phi, non-param) instruction, by value number. */
  readonly index: ReadonlyMap<number, number>;
  /** The start position 2h of every block, by block id. */
  readonly blockStart: ReadonlyMap<number, number>;
  /** The end position 2t + 1 of every block, by block id. */
  readonly blockEnd: ReadonlyMap<number, number>;
  /** The indices j of the calling instructions (CALLING_OPS, or the ones given), ascending. */
  readonly calls: readonly number[];
}

/** Is this instruction defined at its block's start (phis, and parameters in the entry block)? */
export function definedAtStart(inst: Inst): boolean {
  return inst.op === 'phi' || inst.op === 'param';
}

// @book:start numbering
/**
 * Numbers the blocks of `order` and their instructions as described at the top of this file.
 * `callingOps` are the operations that call out (a later chapter adds its own: chapter 11's
 * allocations, whose slow path calls the runtime).
 */
export function numberInstructions(order: readonly Block[], callingOps: ReadonlySet<string> = CALLING_OPS): Numbering {
  const index = new Map<number, number>();
  const blockStart = new Map<number, number>();
  const blockEnd = new Map<number, number>();
  const calls: number[] = [];
  let next = 0;
  for (const block of order) {
    blockStart.set(block.id, 2 * next++);
    for (const inst of block.insts) {
      if (definedAtStart(inst)) continue;
      if (callingOps.has(inst.op)) calls.push(next);
      index.set(inst.id, next++);
    }
    blockEnd.set(block.id, 2 * (next - 1) + 1);
  }
  return { order, index, blockStart, blockEnd, calls };
}
// @book:end numbering

/**
 * The compares folded into a branch: a compare whose only use is the branch right after it
 * in the same block. The branch then compares and jumps in one go (`cmp` + `jl`; `b.lt`,
 * or `cbz` against zero), and the 0/1 value is never made.
 */
export function fusedCompares(fn: Func): Set<number> {
  const uses = new Map<number, number>();
  for (const block of fn.blocks) for (const inst of block.insts) for (const a of inst.args) uses.set(a, (uses.get(a) ?? 0) + 1);
  const fused = new Set<number>();
  for (const block of fn.blocks) {
    const n = block.insts.length;
    const branch = block.insts[n - 1];
    const compare = block.insts[n - 2];
    if (branch?.op === 'branch' && compare !== undefined && COMPARISONS.has(compare.op) && branch.args[0] === compare.id && uses.get(compare.id) === 1) {
      fused.add(compare.id);
    }
  }
  return fused;
}

/**
 * The multiplies folded into the add or sub that uses them: a `mul` whose only use is an
 * `add` (either operand) or the right operand of a `sub` in the same block. The pair is
 * one multiply-add or multiply-subtract (AArch64 `madd`/`msub`), and the product never
 * needs a location of its own. Likewise a shift left by 1, 2 or 3 whose only use is an
 * `add`: `a + (x << 3)` is one `lea` (x86-64) or `add` with a shifted operand (AArch64).
 * By user: user's value number → the folded instruction.
 */
export function foldedMultiplies(fn: Func): Map<number, Inst> {
  const uses = new Map<number, number>();
  for (const block of fn.blocks) for (const inst of block.insts) for (const a of inst.args) uses.set(a, (uses.get(a) ?? 0) + 1);
  const folds = new Map<number, Inst>();
  for (const block of fn.blocks) {
    const here = new Map(block.insts.map((i) => [i.id, i]));
    for (const inst of block.insts) {
      if (inst.op !== 'add' && inst.op !== 'sub') continue;
      const candidates = inst.op === 'add' ? inst.args : [inst.args[1]!];
      const foldable = (m: Inst | undefined) =>
        m !== undefined && uses.get(m.id) === 1 && inst.args[0] !== inst.args[1] && (m.op === 'mul' || (inst.op === 'add' && isScaleShift(m, here)));
      const product = candidates.map((a) => here.get(a)).find(foldable);
      if (product !== undefined && ![...folds.values()].includes(product)) folds.set(inst.id, product);
    }
  }
  return folds;
}

/** `shl x, k` with k a constant 1, 2 or 3 defined in the same block: a scale of 2, 4 or 8. */
function isScaleShift(inst: Inst, here: ReadonlyMap<number, Inst>): boolean {
  const count = here.get(inst.args[1]!);
  return inst.op === 'shl' && count?.op === 'const' && count.imm! >= 1n && count.imm! <= 3n;
}

/** What the allocator needs to know about a function besides its blocks. */
export interface Facts {
  /** Every instruction by value number. */
  readonly defs: ReadonlyMap<number, Inst>;
  /** Instructions folded into their user: compares into branches, multiplies into adds and subs. */
  readonly fused: ReadonlySet<number>;
  /** The instruction folded into each user, by the user's value number. */
  readonly folds: ReadonlyMap<number, Inst>;
}

export function factsOf(fn: Func): Facts {
  const folds = foldedMultiplies(fn);
  const defs = definitions(fn);
  for (const compare of fusedCompares(fn)) {
    const branch = fn.blocks.map((b) => b.insts.at(-1)!).find((t) => t.op === 'branch' && t.args[0] === compare)!;
    folds.set(branch.id, defs.get(compare)!);
  }
  return { defs, fused: new Set([...folds.values()].map((i) => i.id)), folds };
}

/**
 * The operands an instruction reads, as values, with what is folded into it spelled out: a
 * branch on a fused compare reads the compare's two operands; an add or sub with a folded
 * multiply reads the multiply's two operands, then its other operand.
 */
export function machineOperands(inst: Inst, facts: Facts): number[] {
  const folded = facts.folds.get(inst.id);
  if (folded === undefined) return inst.args;
  if (inst.op === 'branch') return folded.args;
  const other = inst.args[0] === folded.id ? inst.args[1]! : inst.args[0]!;
  return [...folded.args, other];
}

/** Does `value` need a location? Constants, folded compares and void instructions do not. */
export function needsLocation(value: number, facts: Facts): boolean {
  const inst = facts.defs.get(value);
  return inst !== undefined && inst.op !== 'const' && inst.type !== VOID && !facts.fused.has(value);
}

/**
 * The values an ordinary instruction reads from locations, in the order of machineOperands;
 * a folded instruction reads nothing itself, and constants are never read from a location.
 * Not for phis (their operands are read on edges).
 */
export function operandValues(inst: Inst, facts: Facts): number[] {
  if (facts.fused.has(inst.id)) return [];
  return machineOperands(inst, facts).filter((a) => needsLocation(a, facts));
}

/** The phi operands block `pred` gives to its successor `succ`: [phi, operand] pairs. */
export function phiOperands(succ: Block, pred: number): [Inst, number][] {
  const pairs: [Inst, number][] = [];
  for (const inst of succ.insts) {
    if (inst.op !== 'phi') break;
    const at = inst.preds!.indexOf(pred);
    if (at >= 0) pairs.push([inst, inst.args[at]!]);
  }
  return pairs;
}

export interface Liveness {
  /** Values live on entry to each block (by block id); its own phis are not among them. */
  readonly liveIn: ReadonlyMap<number, ReadonlySet<number>>;
  /** Values live on exit from each block: what its successors need, phi operands included. */
  readonly liveOut: ReadonlyMap<number, ReadonlySet<number>>;
}

// @book:start liveness-signature
/**
 * Which values are live where, by the classic backward data-flow equations, iterated until
 * nothing changes:
 *
 *   liveOut(b) = ⋃ over successors s:  liveIn(s) ∪ { the phi operands of s that come from b }
 *   liveIn(b)  = the values b reads before writing them ∪ (liveOut(b) − what b defines)
 *
 * Only values that need a location count (see `needsLocation`). A block's phis are defined
 * at its start, so they are never in its own liveIn; their operands are live out of the
 * predecessors instead.
 */
export function liveness(fn: Func, order: readonly Block[], facts: Facts): Liveness {
// @book:end liveness-signature
  // TODO: start every block's liveIn and liveOut empty, then repeat until nothing changes:
  //   walk the blocks backwards (order from the end: fewer rounds); live = the union of
  //   liveIn(s) over the successors s, plus the phi operands of s that come from this block
  //   (phiOperands; only values that needsLocation); that is liveOut. Then walk the block's
  //   instructions backwards: a definition removes its value from live, an ordinary
  //   instruction adds operandValues(inst, facts); phis add nothing here. What is left is liveIn.
  return todo('liveness');
}

/** A value's live interval: it needs its location from `start` to `end`, both included. */
export interface Interval {
  readonly value: number;
  start: number;
  end: number;
}

// @book:start intervals-signature
/**
 * One interval per value that needs a location, from the liveness: in each block, a value
 * live out is live to the block's end, a value read is live from the block's start (or its
 * definition, if that is in the block) to its last read there, and the interval is the hull
 * of all these pieces. A value defined and never read gets [def, def]: it still needs a
 * place to be written.
 */
export function buildIntervals(numbering: Numbering, live: Liveness, facts: Facts): Map<number, Interval> {
// @book:end intervals-signature
  // TODO: for each block (numbering.order), with start = blockStart and end = blockEnd:
  //   every value live out gets the piece [start, end];
  //   walk the instructions backwards: a value that needsLocation is defined at `start`
  //   (definedAtStart) or at 2j + 1; its piece begins there, or is [def, def] if it had none;
  //   an ordinary instruction reads operandValues at 2j: a value without a piece yet gets
  //   [start, 2j] (its last read in this block);
  //   pieces still open at the top of the block are live in: they begin at `start`.
  // A value's interval is the hull (lowest from, highest to) of all its pieces.
  return todo('buildIntervals');
}

/**
 * Blocks in layout order: reverse postorder from the entry, visiting a branch's false
 * target before its true one, so that the true target (a loop's body, an `if`'s then-arm)
 * comes right after the branch and is reached by falling through.
 */
export function blockOrder(fn: Func): Block[] {
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  const seen = new Set<number>();
  const postorder: Block[] = [];
  const stack: { block: Block; succs: number[] }[] = [];
  const visit = (block: Block) => {
    seen.add(block.id);
    stack.push({ block, succs: [...successors(block)] });
  };
  if (fn.blocks[0] !== undefined) visit(fn.blocks[0]);
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const next = top.succs.pop();
    if (next === undefined) {
      postorder.push(top.block);
      stack.pop();
    } else if (!seen.has(next) && byId.has(next)) visit(byId.get(next)!);
  }
  return postorder.reverse();
}
