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

const OVERDEFINED = Symbol('overdefined');
type Lattice = bigint | typeof OVERDEFINED; // absent from the map: unknown

export function sccp(input: Func, ops: OpTable = CORE_OPS): Func {
  const fn = cloneFunction(input);
  const blocks = new Map(fn.blocks.map((b) => [b.id, b]));
  const users = new Map<number, Inst[]>();
  const blockOf = new Map<number, number>();
  for (const block of fn.blocks) {
    for (const inst of block.insts) {
      blockOf.set(inst.id, block.id);
      for (const a of inst.args) {
        let list = users.get(a);
        if (list === undefined) users.set(a, (list = []));
        list.push(inst);
      }
    }
  }

  const value = new Map<number, Lattice>();
  const executableEdges = new Set<string>();
  const visited = new Set<number>();
  const edgeWork: [number, number][] = [[-1, fn.blocks[0]!.id]];
  const valueWork: Inst[] = [];
  const edge = (from: number, to: number) => `${from}>${to}`;

  const lower = (inst: Inst, next: Lattice) => {
    const old = value.get(inst.id);
    if (old === next) return;
    if (old === OVERDEFINED) return; // already at the bottom
    value.set(inst.id, old === undefined ? next : OVERDEFINED);
    valueWork.push(...(users.get(inst.id) ?? []));
  };

  const visit = (inst: Inst) => {
    const block = blockOf.get(inst.id)!;
    if (!visited.has(block)) return; // not executable (yet)
    const info = ops.get(inst.op)!;
    switch (inst.op) {
      case 'const':
        return lower(inst, inst.imm!);
      case 'phi': {
        let result: Lattice | undefined;
        inst.args.forEach((arg, k) => {
          if (!executableEdges.has(edge(inst.preds![k]!, block))) return;
          const v = value.get(arg);
          if (v === undefined) return;
          result = result === undefined || result === v ? v : OVERDEFINED;
        });
        if (result !== undefined) lower(inst, result);
        return;
      }
      case 'branch': {
        const cond = value.get(inst.args[0]!);
        if (cond === undefined) return;
        const targets = cond === OVERDEFINED ? inst.targets! : [inst.targets![cond !== 0n ? 0 : 1]!];
        for (const t of targets) edgeWork.push([block, t]);
        return;
      }
      case 'jump':
        edgeWork.push([block, inst.targets![0]!]);
        return;
    }
    if (info.terminator || inst.type === 'void') return;
    if (info.evaluate === undefined || info.effects.sideEffect || info.effects.reads) return lower(inst, OVERDEFINED);
    const operands = inst.args.map((a) => value.get(a));
    if (operands.some((v) => v === OVERDEFINED)) return lower(inst, OVERDEFINED);
    if (operands.some((v) => v === undefined)) return; // wait for evidence
    try {
      lower(inst, info.evaluate(operands as bigint[]));
    } catch (e) {
      if (!(e instanceof DivisionByZero)) throw e;
      lower(inst, OVERDEFINED); // it raises its error at run time; leave it be
    }
  };

  while (edgeWork.length > 0 || valueWork.length > 0) {
    while (edgeWork.length > 0) {
      const [from, to] = edgeWork.pop()!;
      const key = edge(from, to);
      if (executableEdges.has(key)) continue;
      executableEdges.add(key);
      const target = blocks.get(to)!;
      if (!visited.has(to)) {
        visited.add(to);
        for (const inst of target.insts) visit(inst);
      } else {
        for (const inst of target.insts) if (inst.op === 'phi') visit(inst);
      }
    }
    while (valueWork.length > 0) visit(valueWork.pop()!);
  }

  // Rewrite: constants become `const`, decided branches become jumps, dead blocks go.
  for (const block of fn.blocks) {
    if (!visited.has(block.id)) continue;
    block.insts = block.insts.map((inst) => {
      const v = value.get(inst.id);
      if (typeof v === 'bigint' && inst.op !== 'const' && inst.type !== 'void') {
        return { id: inst.id, op: 'const', type: inst.type, args: [], imm: v, line: inst.line };
      }
      if (inst.op === 'branch') {
        const live = inst.targets!.filter((t) => executableEdges.has(edge(block.id, t)));
        if (live.length === 1) {
          for (const dead of inst.targets!) if (dead !== live[0]) removePhiEdge(blocks.get(dead)!, block.id);
          return { id: inst.id, op: 'jump', type: 'void', args: [], targets: live, line: inst.line };
        }
      }
      return inst;
    });
    // A phi that became a constant is an ordinary instruction now: it goes after the phis.
    block.insts = [...block.insts.filter((i) => i.op === 'phi'), ...block.insts.filter((i) => i.op !== 'phi')];
  }
  const preds = predecessors(fn);
  fn.blocks = fn.blocks.filter((b) => visited.has(b.id));
  for (const block of fn.blocks) {
    for (const p of preds.get(block.id) ?? []) if (!visited.has(p)) removePhiEdge(block, p);
  }
  return fn;
}
