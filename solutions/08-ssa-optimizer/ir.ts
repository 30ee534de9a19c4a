/**
 * Chapter 08: the SSA intermediate representation.
 *
 * A function is a list of basic blocks, the entry block first. A block is a list of
 * instructions: its phis first, then ordinary instructions, then exactly one terminator
 * (`jump`, `branch`, `return`). Every instruction that produces a value *is* that value:
 * `v7 = add v3, v5` defines v7 once, and every use of v7 names it. Nothing is ever assigned
 * twice, which is what "static single assignment" means.
 *
 *   function gcd(v0: int, v1: int): int {
 *   b0:
 *     v0 = param 0            ; an instruction per parameter, at the top of the entry block
 *     v1 = param 1
 *     jump b1
 *   b1:
 *     v2 = phi int [b0: v0], [b2: v3]   ; the value of `a` depends on where we came from
 *     v3 = phi int [b0: v1], [b2: v5]
 *     v4 = const int 0
 *     …
 *   }
 *
 * Values carry a type (`int`, `bool`; later chapters add more). The text form above prints
 * and parses (printer.ts, text.ts), so checks and book examples are written as IR text.
 *
 * The IR is mutable while a pass works on it, but passes are pure functions from the
 * caller's view: each clones its input first (`cloneFunction`) and returns the new one.
 */

/** A value type. Chapter 08 has `int` and `bool`; later chapters add heap references. */
export type Type = string;

/** The type of an instruction that produces no value (terminators, `print`). */
export const VOID: Type = 'void';

// @book:start ir
export interface Inst {
  /** The value number: this instruction is `v{id}`. Unique in its function. */
  readonly id: number;
  op: string;
  type: Type;
  /** Operands, as value numbers. */
  args: number[];
  /** `const`: the value; `param`: the parameter's index. */
  imm?: bigint;
  /** `call`: the callee's name. */
  callee?: string;
  /** Terminators: the successor blocks (`branch`: the true block first). */
  targets?: number[];
  /** `phi`: the predecessor block each operand comes from, in the same order as `args`. */
  preds?: number[];
  /** The source line this instruction comes from (runtime errors report it); 0 if none. */
  line: number;
}

export interface Block {
  /** The block number: this block is `b{id}`. */
  readonly id: number;
  insts: Inst[];
}

export interface Param {
  readonly name: string;
  readonly type: Type;
}

export interface Func {
  readonly name: string;
  readonly params: readonly Param[];
  readonly returnType: Type;
  /** The entry block first; the rest in any order. */
  blocks: Block[];
  /** The next free value and block numbers. */
  nextValue: number;
  nextBlock: number;
}

/** A whole program: its functions by name, and which one is `main`. */
export interface IrProgram {
  readonly functions: ReadonlyMap<string, Func>;
  readonly main: string;
}
// @book:end ir

// ── queries ──────────────────────────────────────────────────────────────────────────

export function terminator(block: Block): Inst {
  const last = block.insts.at(-1);
  if (last === undefined) throw new Error(`b${block.id} is empty`);
  return last;
}

/** The blocks control can go to from `block`. */
export function successors(block: Block): readonly number[] {
  return block.insts.at(-1)?.targets ?? [];
}

/** Predecessors of every block, each list in block order, without duplicates. */
export function predecessors(fn: Func): Map<number, number[]> {
  const preds = new Map<number, number[]>(fn.blocks.map((b) => [b.id, []]));
  for (const block of fn.blocks) {
    for (const target of new Set(successors(block))) preds.get(target)?.push(block.id);
  }
  return preds;
}

export function blockById(fn: Func): Map<number, Block> {
  return new Map(fn.blocks.map((b) => [b.id, b]));
}

/** Every instruction of `fn` by value number. */
export function definitions(fn: Func): Map<number, Inst> {
  const defs = new Map<number, Inst>();
  for (const block of fn.blocks) for (const inst of block.insts) defs.set(inst.id, inst);
  return defs;
}

/** The block each instruction is in, by value number. */
export function definingBlocks(fn: Func): Map<number, number> {
  const where = new Map<number, number>();
  for (const block of fn.blocks) for (const inst of block.insts) where.set(inst.id, block.id);
  return where;
}

/** How many times each value is used as an operand. */
export function useCounts(fn: Func): Map<number, number> {
  const counts = new Map<number, number>();
  for (const block of fn.blocks) {
    for (const inst of block.insts) for (const arg of inst.args) counts.set(arg, (counts.get(arg) ?? 0) + 1);
  }
  return counts;
}

/** Blocks reachable from the entry, in reverse postorder (a block before its successors, loops aside). */
export function reversePostorder(fn: Func): Block[] {
  const byId = blockById(fn);
  const seen = new Set<number>();
  const order: Block[] = [];
  // An explicit stack: a function may have thousands of blocks.
  const stack: { block: Block; next: number }[] = [];
  const entry = fn.blocks[0];
  if (entry === undefined) return order;
  seen.add(entry.id);
  stack.push({ block: entry, next: 0 });
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const succs = successors(top.block);
    if (top.next < succs.length) {
      const target = byId.get(succs[top.next++]!);
      if (target !== undefined && !seen.has(target.id)) {
        seen.add(target.id);
        stack.push({ block: target, next: 0 });
      }
    } else {
      order.push(top.block);
      stack.pop();
    }
  }
  return order.reverse();
}

// ── building ─────────────────────────────────────────────────────────────────────────

export function newBlock(fn: Func): Block {
  const block: Block = { id: fn.nextBlock++, insts: [] };
  fn.blocks.push(block);
  return block;
}

export interface NewInst {
  op: string;
  type: Type;
  args?: number[];
  imm?: bigint;
  callee?: string;
  targets?: number[];
  preds?: number[];
  line?: number;
}

/** A new instruction with the next value number (not placed in any block). */
export function makeInst(fn: Func, spec: NewInst): Inst {
  const inst: Inst = { id: fn.nextValue++, op: spec.op, type: spec.type, args: spec.args ?? [], line: spec.line ?? 0 };
  if (spec.imm !== undefined) inst.imm = spec.imm;
  if (spec.callee !== undefined) inst.callee = spec.callee;
  if (spec.targets !== undefined) inst.targets = spec.targets;
  if (spec.preds !== undefined) inst.preds = spec.preds;
  return inst;
}

/** A deep copy: a pass changes the copy, never its input. */
export function cloneFunction(fn: Func): Func {
  return {
    name: fn.name,
    params: fn.params,
    returnType: fn.returnType,
    nextValue: fn.nextValue,
    nextBlock: fn.nextBlock,
    blocks: fn.blocks.map((b) => ({ id: b.id, insts: b.insts.map(cloneInst) })),
  };
}

export function cloneInst(inst: Inst): Inst {
  const copy: Inst = { ...inst, args: [...inst.args] };
  if (inst.targets) copy.targets = [...inst.targets];
  if (inst.preds) copy.preds = [...inst.preds];
  return copy;
}

/** Replaces every use of value `from` by value `to` in `fn`. */
export function replaceUses(fn: Func, from: number, to: number): void {
  for (const block of fn.blocks) {
    for (const inst of block.insts) {
      for (let i = 0; i < inst.args.length; i++) if (inst.args[i] === from) inst.args[i] = to;
    }
  }
}

/** Applies a whole substitution at once (values mapped to values, chains followed). */
export function replaceAllUses(fn: Func, substitution: ReadonlyMap<number, number>): void {
  if (substitution.size === 0) return;
  const resolve = (v: number): number => {
    let seen = 0;
    while (substitution.has(v)) {
      v = substitution.get(v)!;
      if (++seen > substitution.size) throw new Error('replaceAllUses: a cycle of substitutions');
    }
    return v;
  };
  for (const block of fn.blocks) {
    for (const inst of block.insts) inst.args = inst.args.map(resolve);
  }
}

/**
 * Removes the edge from block `from` to block `to` from `to`'s phis (the operand that came
 * along that edge). Call it when a branch stops going to `to` from `from`.
 */
export function removePhiEdge(block: Block, from: number): void {
  for (const inst of block.insts) {
    if (inst.op !== 'phi') break;
    const keep = inst.preds!.map((p, i) => (p === from ? -1 : i)).filter((i) => i >= 0);
    inst.args = keep.map((i) => inst.args[i]!);
    inst.preds = keep.map((i) => inst.preds![i]!);
  }
}
