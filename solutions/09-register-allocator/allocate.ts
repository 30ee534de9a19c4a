/**
 * Chapter 09: register allocation of one function, from optimized SSA to an
 * `AllocatedFunction`: number the instructions, compute liveness and intervals, run the
 * linear scan, then leave SSA by putting the phis' parallel moves on the edges and the
 * calling convention's moves around calls, each sequenced.
 */
import type { MacroAssembler, Register } from '#ch04/macro-assembler.ts';
import type { Block, Func, Inst } from '#ch08/ir.ts';
import { jitRegisters } from '#ch07/compiler.ts';
import { crossesAnyCall, linearScan } from './linear-scan.ts';
import { CALLING_OPS, blockOrder, buildIntervals, factsOf, liveness, machineOperands, needsLocation, numberInstructions, operandValues, phiOperands, type Facts, type Interval, type Liveness } from './liveness.ts';
import { immediate, inReg, inSlot, type AllocatedFunction, type Location, type MachineBlock, type MachineInst, type Move, type Operand } from './machine.ts';
import { sequenceMoves, type MoveScratch } from './parallel-move.ts';

/** The registers of an ISA as the allocator sees them. */
export interface AllocatorRegisters {
  /** What the allocator may hand out, in order of preference: caller-saved first, then callee-saved. */
  readonly pool: readonly Register[];
  readonly calleeSaved: ReadonlySet<Register>;
  /** Registers a call destroys (as far as values the allocator placed are concerned). */
  readonly callerSaved: readonly Register[];
  /** Never handed out: spilled operands, constants and move cycles go through them. */
  readonly scratch: readonly [Register, Register];
  readonly args: readonly Register[];
  readonly result: Register;
}

// @book:start allocator-registers
/**
 * The allocatable registers of `masm`'s ISA minus those compiled code gives a meaning to
 * (the context, the run state: chapter 07's `jitRegisters`) and minus two scratch
 * registers. With `limit`, only that many registers are handed out (half of them
 * callee-saved where the ISA has them free), to force spilling in tests.
 */
export function allocatorRegisters(masm: MacroAssembler, limit?: number): AllocatorRegisters {
  const { regs } = masm;
  const jit = jitRegisters(masm);
  const reserved = new Set<Register>([...regs.pinned, jit.ctx, jit.callsLeft]);
  const usable = regs.allocatable.filter((r) => !reserved.has(r));
  const scratchCandidates = usable.filter((r) => !regs.args.includes(r) && !regs.calleeSaved.includes(r));
  if (scratchCandidates.length < 2) throw new Error(`${masm.arch}: fewer than two caller-saved registers outside the argument registers to keep as scratch`);
  const scratch: [Register, Register] = [scratchCandidates.at(-2)!, scratchCandidates.at(-1)!];
  const callerSaved = usable.filter((r) => !regs.calleeSaved.includes(r) && !scratch.includes(r));
  const calleeSaved = usable.filter((r) => regs.calleeSaved.includes(r));
  let pool = [...callerSaved, ...calleeSaved];
  if (limit !== undefined) {
    const fromCallee = Math.min(calleeSaved.length, Math.floor(limit / 2));
    pool = [...callerSaved.slice(0, limit - fromCallee), ...calleeSaved.slice(0, fromCallee)];
  }
  return {
    pool,
    calleeSaved: new Set(calleeSaved),
    callerSaved: [...callerSaved, ...scratch],
    scratch,
    args: regs.args,
    result: regs.result,
  };
}
// @book:end allocator-registers

/**
 * What a later chapter changes in the allocation (chapter 11: allocations call out on their
 * slow path, and references stay in memory across every call, where the collector finds them).
 */
export interface AllocationOptions {
  /** Operations that call out (default: CALLING_OPS): every caller-saved register is lost across them. */
  readonly callingOps?: ReadonlySet<string>;
  /**
   * Values that must be in a stack slot wherever a calling operation may look at the frame.
   * Such a value whose interval crosses a calling operation gets a stack slot for its whole
   * life, never a register (not even a callee-saved one: the callee's save slot is not the
   * caller's to name).
   */
  readonly inMemory?: (value: Inst) => boolean;
}

export interface AllocationDetails {
  readonly allocated: AllocatedFunction;
  readonly intervals: ReadonlyMap<number, Interval>;
}

/** Allocates registers for `fn` (optimized SSA) with the registers `registers`. */
export function allocateFunction(fn: Func, registers: AllocatorRegisters, options: AllocationOptions = {}): AllocationDetails {
  const facts = factsOf(fn);
  const order = blockOrder(fn);
  const callingOps = options.callingOps ?? CALLING_OPS;
  const numbering = numberInstructions(order, callingOps);
  const live = liveness(fn, order, facts);
  const intervals = buildIntervals(numbering, live, facts);
  // Values that must stay in memory across calls are not the linear scan's: each gets a slot of its own, after the scan's.
  const inMemory = options.inMemory;
  const kept = inMemory === undefined ? [] : [...intervals.values()].filter((i) => inMemory(facts.defs.get(i.value)!) && crossesAnyCall(i, numbering.calls));
  const scanned = [...intervals.values()].filter((i) => !kept.includes(i));
  const scan = linearScan(scanned, { registers: registers.pool, calleeSaved: registers.calleeSaved, calls: numbering.calls });
  const locations = scan.locations;
  kept.forEach((interval, k) => locations.set(interval.value, inSlot(scan.slots + k)));
  const across = liveAcrossCalls(order, live, facts, callingOps);
  const moveScratch: MoveScratch = { cycle: registers.scratch[0], memory: registers.scratch[1] };

  const operand = (value: number): Operand => {
    const inst = facts.defs.get(value);
    if (inst?.op === 'const') return immediate(inst.imm!);
    const where = locations.get(value);
    if (where === undefined) throw new Error(`${fn.name}: v${value} is read but has no location`);
    return where;
  };
  const blocks: MachineBlock[] = [];
  for (const block of order) {
    const insts: MachineInst[] = [];
    for (const inst of block.insts) {
      if (inst.op === 'phi' || inst.op === 'param') continue;
      const mi = machineInst(inst, facts, operand, locations, registers, moveScratch, callingOps);
      const survivors = across.get(inst.id);
      insts.push(survivors === undefined ? mi : { ...mi, liveAcross: survivors });
    }
    const edges = new Map<number, readonly Move[]>();
    for (const target of new Set(block.insts.at(-1)?.targets ?? [])) {
      const succ = order.find((b) => b.id === target);
      if (succ === undefined) continue;
      const moves = phiOperands(succ, block.id)
        .filter(([phi]) => needsLocation(phi.id, facts))
        .map(([phi, value]): Move => ({ from: operand(value), to: locations.get(phi.id)! }));
      edges.set(target, sequenceMoves(moves, moveScratch));
    }
    blocks.push({ block, insts, edges });
  }
  const entryMoves: Move[] = [];
  for (const inst of fn.blocks[0]!.insts) {
    if (inst.op === 'param' && locations.has(inst.id)) entryMoves.push({ from: inReg(registers.args[Number(inst.imm)]!), to: locations.get(inst.id)! });
  }
  const used = new Set<Register>();
  for (const where of locations.values()) if (where.kind === 'reg') used.add(where.reg);
  return {
    intervals,
    allocated: {
      name: fn.name,
      blocks,
      entry: sequenceMoves(entryMoves, moveScratch),
      locations,
      slots: scan.slots + kept.length,
      calleeSaved: [...registers.calleeSaved].filter((r) => used.has(r)),
      scratch: registers.scratch,
    },
  };
}

/**
 * The values live across each calling instruction (live right after it, its result aside),
 * by the instruction's value number: a walk back through each block from what is live out.
 */
function liveAcrossCalls(order: readonly Block[], live: Liveness, facts: Facts, callingOps: ReadonlySet<string>): Map<number, number[]> {
  const across = new Map<number, number[]>();
  for (const block of order) {
    const now = new Set(live.liveOut.get(block.id));
    for (let i = block.insts.length - 1; i >= 0; i--) {
      const inst = block.insts[i]!;
      if (inst.op === 'phi') break;
      now.delete(inst.id);
      if (callingOps.has(inst.op)) across.set(inst.id, [...now].sort((a, b) => a - b));
      for (const v of operandValues(inst, facts)) now.add(v);
    }
  }
  return across;
}

/** One instruction with its operands' and result's locations and the moves a call or return needs. */
function machineInst(inst: Inst, facts: Facts, operand: (v: number) => Operand, locations: ReadonlyMap<number, Location>, registers: AllocatorRegisters, scratch: MoveScratch, callingOps: ReadonlySet<string> = CALLING_OPS): MachineInst {
  const result = needsLocation(inst.id, facts) ? locations.get(inst.id) : undefined;
  if (inst.op === 'call' || inst.op === 'print') {
    const before = sequenceMoves(inst.args.map((a, i) => ({ from: operand(a), to: inReg(registers.args[i]!) })), scratch);
    const after: Move[] = result !== undefined ? [{ from: inReg(registers.result), to: result }] : [];
    return {
      inst,
      before,
      operands: inst.args.map((_, i) => inReg(registers.args[i]!)),
      ...(inst.op === 'call' ? { result: inReg(registers.result) } : {}),
      clobbers: registers.callerSaved,
      ...(inst.op === 'print' ? { printType: facts.defs.get(inst.args[0]!)!.type } : {}),
      after: after.filter((m) => !(m.from.kind === 'reg' && m.to.kind === 'reg' && m.from.reg === m.to.reg)),
    };
  }
  if (inst.op === 'return') {
    return { inst, before: sequenceMoves([{ from: operand(inst.args[0]!), to: inReg(registers.result) }], scratch), operands: [inReg(registers.result)], clobbers: [], after: [] };
  }
  if (facts.fused.has(inst.id)) return { inst, before: [], operands: [], clobbers: [], after: [] };
  const fused = facts.folds.get(inst.id);
  return {
    inst,
    ...(fused ? { fused } : {}),
    before: [],
    operands: machineOperands(inst, facts).map(operand),
    ...(result !== undefined ? { result } : {}),
    // A later chapter's calling operation (chapter 11: an allocation) destroys what a call does.
    clobbers: callingOps.has(inst.op) ? registers.callerSaved : [],
    after: [],
  };
}
