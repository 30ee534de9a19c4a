/**
 * The allocation checker: an independent proof that an allocation is right, in the manner
 * of regalloc2's checker. It knows nothing of intervals or of how the allocator chose; it
 * re-executes the allocated function *symbolically*: each location holds the name of the
 * value it contains (`v7`, or a constant `#3`), instructions and moves update that state,
 * calls wipe the caller-saved registers, code generation may use the two scratch
 * registers at any instruction, and states meet at control-flow merges (a location keeps
 * its name only if every incoming path agrees). Then every read must find, in the location
 * it reads, exactly the value the IR says it reads.
 *
 * That one test covers both properties of a correct allocation: if two values live at once
 * shared a location, the later write would erase the earlier value before its next read;
 * and every use reads the location its value was put in, through every move on the way.
 */
import type { Func, Inst } from '../../solutions/08-ssa-optimizer/ir.ts';

/** The shapes the checker reads (structurally the learner's AllocatedFunction). */
type Loc = { readonly kind: 'reg'; readonly reg: number } | { readonly kind: 'slot'; readonly slot: number };
type Opnd = Loc | { readonly kind: 'imm'; readonly value: bigint };
interface Mv {
  readonly from: Opnd;
  readonly to: Loc;
}
interface MInst {
  readonly inst: Inst;
  readonly fused?: Inst;
  readonly before: readonly Mv[];
  readonly operands: readonly Opnd[];
  readonly result?: Loc;
  readonly clobbers: readonly number[];
  readonly after: readonly Mv[];
}
interface MBlock {
  readonly block: { readonly id: number; readonly insts: readonly Inst[] };
  readonly insts: readonly MInst[];
  readonly edges: ReadonlyMap<number, readonly Mv[]>;
}
export interface CheckedAllocation {
  readonly name: string;
  readonly blocks: readonly MBlock[];
  readonly entry: readonly Mv[];
  readonly locations: ReadonlyMap<number, Loc>;
  readonly scratch: readonly number[];
}

type State = Map<string, string>;

const key = (l: Loc) => (l.kind === 'reg' ? `r${l.reg}` : `s${l.slot}`);
const show = (l: Opnd) => (l.kind === 'imm' ? `#${l.value}` : l.kind === 'reg' ? `register ${l.reg}` : `stack slot ${l.slot}`);

/** Checks `allocation` of `fn` (argument registers `args`); returns the problems found, empty when it is right. */
export function checkAllocation(fn: Func, allocation: CheckedAllocation, args: readonly number[]): string[] {
  const defs = new Map<number, Inst>();
  for (const b of fn.blocks) for (const i of b.insts) defs.set(i.id, i);
  const expect = (v: number): string => {
    const d = defs.get(v);
    return d?.op === 'const' ? `#${d.imm}` : `v${v}`;
  };
  const problems: string[] = [];
  const byId = new Map(allocation.blocks.map((b) => [b.block.id, b]));
  const preds = new Map<number, number[]>();
  for (const mb of allocation.blocks) for (const s of new Set(mb.block.insts.at(-1)?.targets ?? [])) preds.set(s, [...(preds.get(s) ?? []), mb.block.id]);

  /** What the IR says each operand holds: with a folded compare, its operands; with a folded multiply, its operands and then the add's or sub's other operand. */
  const operandsOf = (mi: MInst): readonly number[] => {
    if (mi.fused === undefined) return mi.inst.args;
    if (mi.inst.op === 'branch') return mi.fused.args;
    const other = mi.inst.args.find((a, i) => a !== mi.fused!.id || mi.inst.args.indexOf(a) !== i)!;
    return [...mi.fused.args, other];
  };
  const read = (state: State, op: Opnd) => (op.kind === 'imm' ? `#${op.value}` : state.get(key(op)));
  const move = (state: State, moves: readonly Mv[]) => {
    for (const m of moves) {
      const v = read(state, m.from);
      if (v === undefined) state.delete(key(m.to));
      else state.set(key(m.to), v);
    }
  };
  const wipe = (state: State, regs: readonly number[]) => {
    for (const r of regs) state.delete(`r${r}`);
  };

  // The IR's ordinary instructions must all be there, in order.
  for (const mb of allocation.blocks) {
    const ir = mb.block.insts.filter((i) => i.op !== 'phi' && i.op !== 'param').map((i) => i.id);
    const got = mb.insts.map((m) => m.inst.id);
    if (ir.join() !== got.join()) problems.push(`${allocation.name}: b${mb.block.id} has instructions ${got.map((v) => `v${v}`).join(' ')} but its IR has ${ir.map((v) => `v${v}`).join(' ')}`);
  }

  /** Runs block `mb` from `state`; with `report`, records every wrong read. Returns the state at each successor's start. */
  const runBlock = (mb: MBlock, input: State, report: boolean): Map<number, State> => {
    const state = new Map(input);
    const fusedHere = new Set(mb.insts.flatMap((mi) => (mi.fused ? [mi.fused.id] : [])));
    const where = (mi: MInst) => `${allocation.name}: b${mb.block.id}, v${mi.inst.id} = ${mi.inst.op}`;
    for (const mi of mb.insts) {
      move(state, mi.before);
      const folded = fusedHere.has(mi.inst.id);
      const expected = folded ? [] : operandsOf(mi);
      if (report && mi.operands.length !== expected.length) problems.push(`${where(mi)}: reads ${mi.operands.length} operands, the IR has ${expected.length}`);
      mi.operands.forEach((op, i) => {
        const want = expected[i] === undefined ? undefined : expect(expected[i]!);
        const have = read(state, op);
        if (report && want !== undefined && have !== want) {
          problems.push(`${where(mi)}: operand ${i + 1} should be ${want}, but ${show(op)} holds ${have ?? 'nothing known'} there`);
        }
      });
      wipe(state, allocation.scratch); // code generation may use the scratch registers for any instruction
      wipe(state, mi.clobbers);
      if (mi.result !== undefined) state.set(key(mi.result), `v${mi.inst.id}`);
      move(state, mi.after);
      if (report && !folded && mi.inst.type !== 'void' && mi.inst.op !== 'const' && mi.result === undefined) problems.push(`${where(mi)}: has no result location`);
    }
    const out = new Map<number, State>();
    for (const target of new Set(mb.block.insts.at(-1)?.targets ?? [])) {
      const edge = new Map(state);
      move(edge, mb.edges.get(target) ?? []);
      const succ = byId.get(target);
      for (const phi of succ?.block.insts ?? []) {
        if (phi.op !== 'phi') break;
        const operand = phi.args[phi.preds!.indexOf(mb.block.id)]!;
        const at = allocation.locations.get(phi.id);
        if (at === undefined) {
          if (report) problems.push(`${allocation.name}: phi v${phi.id} of b${target} has no location`);
          continue;
        }
        const have = edge.get(key(at));
        if (report && have !== expect(operand)) {
          problems.push(`${allocation.name}: on the edge b${mb.block.id} → b${target}, phi v${phi.id} in ${show(at)} should receive ${expect(operand)}, but it holds ${have ?? 'nothing known'}`);
        }
        edge.set(key(at), `v${phi.id}`);
      }
      out.set(target, edge);
    }
    return out;
  };

  const entryState: State = new Map();
  for (const inst of fn.blocks[0]!.insts) if (inst.op === 'param') entryState.set(`r${args[Number(inst.imm)]}`, `v${inst.id}`);
  move(entryState, allocation.entry);
  wipe(entryState, allocation.scratch);
  for (const inst of fn.blocks[0]!.insts) {
    const at = allocation.locations.get(inst.id);
    if (inst.op === 'param' && at !== undefined && entryState.get(key(at)) !== `v${inst.id}`) {
      problems.push(`${allocation.name}: parameter v${inst.id} should be in ${show(at)} after the entry moves, but it holds ${entryState.get(key(at)) ?? 'nothing known'}`);
    }
  }

  // Forward data flow to a fixed point: the state at each block's start is the meet of its incoming edges.
  const inState = new Map<number, State>();
  const outEdges = new Map<string, State>();
  const entryId = allocation.blocks[0]!.block.id;
  const stateAt = (id: number): State | undefined => {
    if (id === entryId) return entryState;
    let met: State | undefined;
    for (const p of preds.get(id) ?? []) {
      const s = outEdges.get(`${p}>${id}`);
      if (s === undefined) continue;
      if (met === undefined) met = new Map(s);
      else for (const [k, v] of met) if (s.get(k) !== v) met.delete(k);
    }
    return met;
  };
  for (let round = 0; round < 1000; round++) {
    let changed = false;
    for (const mb of allocation.blocks) {
      const input = stateAt(mb.block.id);
      if (input === undefined) continue;
      const old = inState.get(mb.block.id);
      if (old !== undefined && old.size === input.size && [...old].every(([k, v]) => input.get(k) === v)) continue;
      inState.set(mb.block.id, input);
      changed = true;
      for (const [t, s] of runBlock(mb, input, false)) outEdges.set(`${mb.block.id}>${t}`, s);
    }
    if (!changed) break;
  }
  for (const mb of allocation.blocks) {
    const input = inState.get(mb.block.id);
    if (input !== undefined) runBlock(mb, input, true);
  }
  return problems;
}
