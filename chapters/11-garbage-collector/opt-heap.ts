/**
 * Chapter 11: arrays and records in the optimizing tier (chapters 08–09), through the
 * optimizing extension of chapter 09's machine hooks.
 *
 * Typed IR. Every reference type of the front end (`[int]`, `Point`, `null`) is one IR type,
 * `ref`: what the optimizer, the allocator and the collector need to know of a value is
 * whether it is a reference. The types come from the bytecode's stack maps: at each GC point
 * a stack map gives the type of every live local and operand-stack entry, so every value
 * live across a GC point is typed exactly; the heap operations' operands are typed by the
 * operations themselves (the object of `load_field` is a `ref`, an index an `int`).
 *
 *   new_array shape, count      → ref     allocates: a GC point (its slow path calls the runtime)
 *   new_record header           → ref     allocates: a GC point (header: count << 32 | shape × 2)
 *   init_field f, record, value           the fields of a new record, right after it is made
 *   load_field f, object        → T       null check
 *   store_field f, object, value          null check
 *   load_element array, index   → T       null check, bounds check
 *   store_element array, index, value     null check, bounds check
 *   array_length array          → int     null check
 *
 * The rules at a GC point (a call, or an allocation's slow path), which `gcPointProblems`
 * checks on every function after register allocation, before its code is emitted:
 *   - a reference live across the GC point is in a stack slot of the frame, and the point's
 *     stack map names that slot, so the collector finds it and writes the moved address back.
 *     Never in a register: a caller-saved one does not survive, and a callee-saved one is
 *     saved by some callee in a slot the caller's map cannot name.
 *   - no derived pointer (an address inside an object, `a + 8 + 8 × i`) is live across it: the
 *     collector moves objects, and it only updates what points at a header. The lowering
 *     below forms such an address only inside one instruction's code, never as an IR value;
 *     an IR value of type `derived` that lives across a GC point is an error.
 *
 * The allocator keeps those rules (chapter 09's `AllocationOptions`): allocations are calling
 * operations, so nothing stays in a caller-saved register across them, and a `ref` whose
 * interval crosses any calling operation gets a stack slot for its whole life. Each GC point
 * then lists the slots of the references live across it (`liveAcross`), and the collector's
 * frame walk (jit-level.ts, `machineRoots`) visits exactly those.
 *
 * Allocation is inline, as in the baseline tier: load top, add the size, compare with the
 * limit, store the new top and the header. The slow path (out of line) records its site as
 * the frame's pc, calls `jot_allocate`, and comes back with the object, or goes to the
 * out-of-memory stub. Null and bounds errors jump to chapter 10's throws with their payloads.
 */
import type { Label, Register } from '#ch04/macro-assembler.ts';
import { readU16, type CompiledFunction } from '#ch06/bytecode.ts';
import { emitRuntimeCall, type MachineSite } from '#ch07/compiler.ts';
import type { AddedInstruction, BuildExtension } from '#ch08/build.ts';
import { VOID, type Func, type Inst, type Type } from '#ch08/ir.ts';
import { extendOps, type OpInfo, type OpTable } from '#ch08/ops.ts';
import type { AllocationDetails } from '#ch09/allocate.ts';
import type { AddedCode, OptimizingExtension } from '#ch09/codegen.ts';
import { CALLING_OPS } from '#ch09/liveness.ts';
import { describeOperand, type AllocatedFunction, type MachineInst } from '#ch09/machine.ts';
import { RUNTIME_ERROR_PAYLOADS } from '#ch10/errors.ts';
import { EXCEPTIONS_OPS } from '#ch10/jit-level.ts';
import { EX, emitThrow, savedField, unwindTable } from '#ch10/stubs.ts';
import { CONTEXT_TOP, HEADER_BYTES, objectBytes } from './heap.ts';
import { HEAP_LANGUAGE } from './language.ts';
import { recordsOf } from './records.ts';
import { isReference } from './rules.ts';
import { FIRST_RECORD_SHAPE, HEAP_CONTEXT, HEAP_ERROR_KIND, gcTable } from './jit-level.ts';

/** The IR type of every reference. */
export const REF: Type = 'ref';
/** The IR type of an address inside an object: never live across a GC point. */
export const DERIVED: Type = 'derived';

/** The IR type of a front-end type: `ref` for arrays, records and null. */
export function irTypeOf(type: string): Type {
  return isReference(type as never) ? REF : type;
}

const needs = (name: string, wanted: readonly (Type | undefined)[], result: (inst: Inst) => Type) =>
  (t: readonly Type[], inst: Inst): Type | { error: string } => {
    const wrong = wanted.findIndex((w, i) => w !== undefined && t[i] !== w);
    return wrong < 0 ? result(inst) : { error: `${name} needs a ${wanted[wrong]} as operand ${wrong + 1}, found ${t[wrong]}` };
  };

const heapOps: OpInfo[] = [
  { name: 'new_array', arity: 1, effects: { mayThrow: true, mayAllocate: true }, typeRule: needs('new_array', ['int'], () => REF) },
  { name: 'new_record', arity: 0, effects: { mayAllocate: true }, typeRule: () => REF },
  { name: 'init_field', arity: 2, effects: { writes: true, sideEffect: true }, typeRule: needs('init_field', [REF], () => VOID) },
  { name: 'load_field', arity: 1, effects: { reads: true, mayThrow: true }, typeRule: needs('load_field', [REF], (inst) => inst.type) },
  { name: 'store_field', arity: 2, effects: { writes: true, mayThrow: true, sideEffect: true }, typeRule: needs('store_field', [REF], () => VOID) },
  { name: 'load_element', arity: 2, effects: { reads: true, mayThrow: true }, typeRule: needs('load_element', [REF, 'int'], (inst) => inst.type) },
  { name: 'store_element', arity: 3, effects: { writes: true, mayThrow: true, sideEffect: true }, typeRule: needs('store_element', [REF, 'int'], () => VOID) },
  { name: 'array_length', arity: 1, effects: { mayThrow: true }, typeRule: needs('array_length', [REF], () => 'int') },
];

/** Chapter 10's IR operations and the heap's. */
export const HEAP_OPS: OpTable = extendOps(EXCEPTIONS_OPS, heapOps);

/** The operations that call out: chapter 09's and the allocations. */
export const HEAP_CALLING_OPS: ReadonlySet<string> = new Set([...CALLING_OPS, 'new_array', 'new_record']);

const opcode = (name: string): number => HEAP_LANGUAGE.opcodes.byName.get(name)!.code;

/** How each heap opcode becomes IR (operands in stack order; the record stays pushed after init_field). */
const BUILDERS: ReadonlyMap<number, AddedInstruction> = new Map<number, AddedInstruction>([
  [opcode('new_array'), (s) => {
    s.hint(s.args[0]!, 'int');
    return s.emit({ op: 'new_array', type: REF, args: [...s.args], imm: BigInt(s.code.code[s.pc + 1]!), line: s.line });
  }],
  [opcode('new_record'), (s) => {
    const k = readU16(s.code.code, s.pc + 1);
    const count = recordsOf(s.code)[k]!.fields.length;
    return s.emit({ op: 'new_record', type: REF, imm: (BigInt(count) << 32n) | BigInt((FIRST_RECORD_SHAPE + k) * 2), line: s.line });
  }],
  [opcode('init_field'), (s) => {
    s.hint(s.args[0]!, REF);
    s.emit({ op: 'init_field', type: VOID, args: [...s.args], imm: BigInt(s.code.code[s.pc + 1]!), line: s.line });
    return s.args[0]!;
  }],
  [opcode('load_field'), (s) => {
    s.hint(s.args[0]!, REF);
    return s.emit({ op: 'load_field', type: '?', args: [...s.args], imm: BigInt(s.code.code[s.pc + 1]!), line: s.line });
  }],
  [opcode('store_field'), (s) => {
    s.hint(s.args[0]!, REF);
    s.emit({ op: 'store_field', type: VOID, args: [...s.args], imm: BigInt(s.code.code[s.pc + 1]!), line: s.line });
    return undefined;
  }],
  [opcode('load_element'), (s) => {
    s.hint(s.args[0]!, REF);
    s.hint(s.args[1]!, 'int');
    return s.emit({ op: 'load_element', type: '?', args: [...s.args], line: s.line });
  }],
  [opcode('store_element'), (s) => {
    s.hint(s.args[0]!, REF);
    s.hint(s.args[1]!, 'int');
    s.emit({ op: 'store_element', type: VOID, args: [...s.args], line: s.line });
    return undefined;
  }],
  [opcode('array_length'), (s) => {
    s.hint(s.args[0]!, REF);
    return s.emit({ op: 'array_length', type: 'int', args: [...s.args], line: s.line });
  }],
]);

/** The types a GC point's stack map states: local slots and operand-stack entries (variable locals + d). */
function stackMapTypes(code: CompiledFunction, pc: number): ReadonlyMap<number, string> | undefined {
  const map = code.stackMaps.get(pc);
  if (map === undefined) return undefined;
  const types = new Map<number, string>();
  for (const local of map.locals) types.set(local.slot, local.type);
  map.stack.forEach((type, d) => types.set(code.locals + d, type));
  return types;
}

// ── the rules at GC points ────────────────────────────────────────────────────────────

/**
 * What breaks the rules at GC points in `fn` as allocated: a reference live across a GC point
 * that is not in a stack slot, and a derived pointer live across one. One line per problem.
 */
export function gcPointProblems(ir: Func, fn: AllocatedFunction): string[] {
  const types = new Map<number, Type>();
  for (const block of ir.blocks) for (const inst of block.insts) types.set(inst.id, inst.type);
  const problems: string[] = [];
  for (const mb of fn.blocks) {
    for (const mi of mb.insts) {
      if (!HEAP_CALLING_OPS.has(mi.inst.op)) continue;
      const at = `${fn.name}: b${mb.block.id}: v${mi.inst.id} = ${mi.inst.op} (line ${mi.inst.line})`;
      if (mi.liveAcross === undefined) {
        problems.push(`${at}: a GC point without the values live across it: allocate with the heap's AllocationOptions`);
        continue;
      }
      for (const value of mi.liveAcross) {
        const type = types.get(value);
        const where = fn.locations.get(value);
        if (type === DERIVED) problems.push(`${at}: v${value} is a derived pointer live across a GC point: the collector would move its object under it`);
        else if (type === REF && where?.kind !== 'slot') {
          problems.push(`${at}: the reference v${value} is live across a GC point in ${where === undefined ? 'no location' : describeOperand(where)}, not in a stack slot its stack map can name`);
        }
      }
    }
  }
  return problems;
}

/** Thrown before code is emitted for a function that breaks the rules at GC points. */
export class GcPointError extends Error {
  override readonly name = 'GcPointError';
  constructor(problems: readonly string[]) {
    super(`the rules at GC points are broken:\n  ${problems.join('\n  ')}`);
  }
}

/** The stack slots of the references live across a calling instruction: its stack map. */
export function rootSlots(mi: MachineInst, fn: AllocatedFunction, types: ReadonlyMap<number, Type>): number[] {
  const slots: number[] = [];
  for (const value of mi.liveAcross ?? []) {
    if (types.get(value) !== REF) continue;
    const where = fn.locations.get(value);
    if (where?.kind !== 'slot') throw new GcPointError([`${fn.name}: the reference v${value} is live across v${mi.inst.id} = ${mi.inst.op} outside a stack slot`]);
    slots.push(where.slot);
  }
  return slots;
}

const typesOf = new WeakMap<AllocatedFunction, Map<number, Type>>();
function valueTypes(fn: AllocatedFunction): Map<number, Type> {
  let types = typesOf.get(fn);
  if (types === undefined) {
    types = new Map();
    for (const mb of fn.blocks) for (const inst of mb.block.insts) types.set(inst.id, inst.type);
    typesOf.set(fn, types);
  }
  return types;
}

// ── code ──────────────────────────────────────────────────────────────────────────────

/** Chapter 11's context offsets (read when code is emitted: jit-level.ts and this file import each other). */
const hx = (): Readonly<Record<string, number>> => HEAP_CONTEXT.offsets as Readonly<Record<string, number>>;

/** Out-of-line code of one function, emitted after its body. */
interface SlowAllocation {
  readonly label: Label;
  readonly back: Label;
  readonly shape: number;
  readonly count: { readonly constant: number } | { readonly register: Register };
  /** Where the object is when the code goes on at `back`. */
  readonly object: Register;
  readonly line: number;
  readonly slots: readonly number[];
}
interface ErrorDetail {
  readonly label: Label;
  /** The stub that throws. */
  readonly target: Label;
  readonly index: Register;
  readonly length?: Register;
}
interface OutOfLine {
  readonly slow: SlowAllocation[];
  readonly details: ErrorDetail[];
}
const outOfLine = new WeakMap<Label, OutOfLine>();
function outOfLineOf(site: MachineSite): OutOfLine {
  let state = outOfLine.get(site.entry);
  if (state === undefined) outOfLine.set(site.entry, (state = { slow: [], details: [] }));
  return state;
}

/** Registers of `site` free inside a calling operation: argument registers other than `busy`. */
function freeAcrossCall(site: MachineSite, busy: readonly Register[]): Register[] {
  return site.masm.regs.args.filter((r) => !busy.includes(r));
}

/** A bounds (or length) error whose index and length go to the context first, for the message. */
function errorWithDetail(site: MachineSite, code: AddedCode, kind: number, line: number, index: Register, length?: Register): Label {
  const label = site.masm.newLabel(`${site.name}.heapdetail`);
  outOfLineOf(site).details.push({ label, target: code.error(kind, line), index, ...(length === undefined ? {} : { length }) });
  return label;
}

/** Inline allocation of a new object; the object ends up in `code.result`. */
function emitNew(site: MachineSite, mi: MachineInst, code: AddedCode): void {
  const { masm, registers } = site;
  const [s0] = site.scratch;
  const inst = mi.inst;
  const dst = code.result;
  const slots = rootSlots(mi, code.fn, valueTypes(code.fn));
  let shape: number;
  let count: SlowAllocation['count'];
  let busy: Register[] = [dst];
  let countReg: Register | undefined;
  if (inst.op === 'new_record') {
    shape = Number(inst.imm! & 0xffff_ffffn) >> 1;
    count = { constant: Number(inst.imm! >> 32n) };
  } else {
    shape = Number(inst.imm!);
    countReg = code.use(mi.operands[0]!, s0);
    count = { register: countReg };
    busy = [dst, countReg];
  }
  const [t1, t2, t3] = freeAcrossCall(site, busy) as [Register, Register, Register];
  const label = masm.newLabel(`${site.name}.allocate`);
  const back = masm.newLabel();
  masm.comment(`${inst.op} at line ${inst.line}: bump allocation`);
  if (countReg !== undefined) {
    masm.branchIfImmediate('lt', countReg, 0, errorWithDetail(site, code, HEAP_ERROR_KIND.arrayLength, inst.line, countReg));
    masm.comment('a count of 2^31 or more does not fit in a header: the slow path says out of memory');
    masm.shrImmediate(t1, countReg, 31);
    masm.branchIfNonZero(t1, label);
    const nonEmpty = masm.newLabel();
    masm.move(t1, countReg);
    masm.branchIfImmediate('ne', t1, 0, nonEmpty);
    masm.moveImmediate(t1, 1n);
    masm.bind(nonEmpty);
    masm.load(t2, registers.ctx, hx().heapContext!);
    masm.load(t3, t2, CONTEXT_TOP);
    masm.addScaled(t1, t3, t1, 8, HEADER_BYTES);
  } else {
    masm.load(t2, registers.ctx, hx().heapContext!);
    masm.load(t3, t2, CONTEXT_TOP);
    masm.addImmediate(t1, t3, objectBytes((count as { constant: number }).constant));
  }
  masm.load(t2, registers.ctx, hx().allocationLimit!);
  masm.branchIf('ugt', t1, t2, label);
  masm.load(t2, registers.ctx, hx().heapContext!);
  masm.store(t1, t2, CONTEXT_TOP);
  if (countReg !== undefined) {
    masm.shlImmediate(t1, countReg, 32);
    masm.moveImmediate(t2, BigInt(shape * 2));
    masm.or(t1, t1, t2);
  } else {
    masm.moveImmediate(t1, (BigInt((count as { constant: number }).constant) << 32n) | BigInt(shape * 2));
  }
  masm.store(t1, t3, 0);
  masm.load(t2, registers.ctx, hx().fastAllocations!);
  masm.addImmediate(t2, t2, 1);
  masm.store(t2, registers.ctx, hx().fastAllocations!);
  masm.bind(back);
  masm.move(dst, t3);
  outOfLineOf(site).slow.push({ label, back, shape, count, object: t3, line: inst.line, slots });
}

/** The null check of the object in `object`. */
function nullCheck(site: MachineSite, code: AddedCode, object: Register, line: number): void {
  site.masm.branchIfZero(object, code.error(HEAP_ERROR_KIND.nullAccess, line));
}

/**
 * The array in a register, null-checked, and the index in a register, checked against the
 * length. Without a free register for the length, the array (spilled, so in the first scratch
 * register) is reloaded after the check.
 */
function checkedElement(site: MachineSite, mi: MachineInst, code: AddedCode): { array: Register; index: Register } {
  const { masm } = site;
  const [s0, s1] = site.scratch;
  const [a, i] = mi.operands as [MachineInst['operands'][0], MachineInst['operands'][0]];
  const line = mi.inst.line;
  const array = code.use(a, s0);
  nullCheck(site, code, array, line);
  const index = code.use(i, s1);
  const length = array !== s0 ? s0 : index !== s1 ? s1 : s0;
  masm.load(length, array, 0);
  masm.shrImmediate(length, length, 32);
  masm.comment('index <u length: also false for a negative index');
  masm.branchIf('uge', index, length, errorWithDetail(site, code, HEAP_ERROR_KIND.indexOutOfBounds, line, index, length));
  if (length === array) code.use(a, s0);
  return { array, index };
}

const fieldOffset = (inst: Inst) => HEADER_BYTES + 8 * Number(inst.imm!);

const EMITTERS = new Map<string, (site: MachineSite, mi: MachineInst, code: AddedCode) => void>([
  ['new_array', emitNew],
  ['new_record', emitNew],
  ['init_field', (site, mi, code) => {
    const [s0, s1] = site.scratch;
    const object = code.use(mi.operands[0]!, s0);
    site.masm.store(code.use(mi.operands[1]!, s1), object, fieldOffset(mi.inst));
  }],
  ['load_field', (site, mi, code) => {
    const [s0] = site.scratch;
    const object = code.use(mi.operands[0]!, s0);
    nullCheck(site, code, object, mi.inst.line);
    site.masm.load(code.result, object, fieldOffset(mi.inst));
  }],
  ['store_field', (site, mi, code) => {
    const [s0, s1] = site.scratch;
    const object = code.use(mi.operands[0]!, s0);
    nullCheck(site, code, object, mi.inst.line);
    site.masm.store(code.use(mi.operands[1]!, s1), object, fieldOffset(mi.inst));
  }],
  ['array_length', (site, mi, code) => {
    const [s0] = site.scratch;
    const array = code.use(mi.operands[0]!, s0);
    nullCheck(site, code, array, mi.inst.line);
    site.masm.load(code.result, array, 0);
    site.masm.shrImmediate(code.result, code.result, 32);
  }],
  ['load_element', (site, mi, code) => {
    const { array, index } = checkedElement(site, mi, code);
    site.masm.loadIndexed(code.result, array, index, HEADER_BYTES);
  }],
  ['store_element', (site, mi, code) => {
    const { masm } = site;
    const [s0, s1] = site.scratch;
    const { array, index } = checkedElement(site, mi, code);
    const value = mi.operands[2]!;
    if (value.kind === 'reg') {
      masm.storeIndexed(value.reg, array, index, HEADER_BYTES);
    } else if (array !== s0 || index !== s1) {
      masm.storeIndexed(code.use(value, array !== s0 ? s0 : s1), array, index, HEADER_BYTES);
    } else {
      masm.comment('the element\'s address (a derived pointer, dead before any GC point), then the value');
      masm.addScaled(s0, s0, s1, 8);
      masm.store(code.use(value, s1), s0, HEADER_BYTES);
    }
  }],
]);

/** After the body: the allocations' slow paths and the errors' details. */
export function emitHeapOutOfLine(site: MachineSite): void {
  const state = outOfLine.get(site.entry);
  if (state === undefined) return;
  outOfLine.delete(site.entry);
  const { masm, registers } = site;
  const { args, calleeSaved, fp, result } = masm.regs;
  const table = unwindTable(site.tables);
  const gc = gcTable(site);
  const [, s1] = site.scratch;
  for (const slow of state.slow) {
    masm.bind(slow.label);
    masm.comment(`allocation at line ${slow.line}: collect and retry in the runtime; roots in slots [${slow.slots.join(', ')}]`);
    if ('register' in slow.count) masm.move(args[1]!, slow.count.register);
    else masm.moveImmediate(args[1]!, BigInt(slow.count.constant));
    masm.moveImmediate(args[0]!, BigInt(slow.shape));
    const at = masm.newLabel(`${site.name}.gc`);
    masm.loadLabelAddress(s1, at);
    masm.store(s1, registers.ctx, EX.exitPc!);
    masm.store(fp, registers.ctx, EX.exitFp!);
    calleeSaved.forEach((reg, i) => masm.store(reg, registers.ctx, savedField(i)));
    masm.bind(at);
    emitRuntimeCall(masm, registers, hx().allocate!, s1);
    gc.points.set(at, { frame: site.frame, slots: slow.slots });
    table.current!.sites.push({ kind: 'call', at, line: slow.line, handler: undefined });
    masm.move(slow.object, result);
    masm.branchIfNonZero(slow.object, slow.back);
    masm.comment('out of memory: the runtime removed every frame; resume at the entry stub');
    masm.jump(gc.outOfMemory!);
  }
  for (const detail of state.details) {
    masm.bind(detail.label);
    masm.store(detail.index, registers.ctx, hx().errorIndex!);
    if (detail.length !== undefined) masm.store(detail.length, registers.ctx, hx().errorLength!);
    masm.jump(detail.target);
  }
}

/** The heap's kinds in the optimizing tier's error stubs: the payload into args[0], then chapter 10's throw. */
export function emitHeapError(site: MachineSite, kind: number, line: number): boolean {
  if (kind !== HEAP_ERROR_KIND.nullAccess && kind !== HEAP_ERROR_KIND.indexOutOfBounds && kind !== HEAP_ERROR_KIND.arrayLength) return false;
  const payload = kind === HEAP_ERROR_KIND.nullAccess ? RUNTIME_ERROR_PAYLOADS.nullAccess.payload : RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.payload;
  const table = unwindTable(site.tables);
  site.masm.moveImmediate(site.masm.regs.args[0]!, payload);
  const at = emitThrow(site.masm, table, kind + 1);
  table.current!.sites.push({ kind: 'throw', at, line, handler: undefined });
  return true;
}

/** Chapter 11's optimizing extension over chapter 10's (whose `throw` it keeps). */
export function heapOptimizing(base: OptimizingExtension): OptimizingExtension {
  const build: BuildExtension = { ...base.build, opcodes: HEAP_LANGUAGE.opcodes, instructions: BUILDERS, irType: irTypeOf, typesAt: stackMapTypes };
  return {
    ...base,
    build,
    ops: HEAP_OPS,
    emitWith: new Map([...(base.emitWith ?? []), ...EMITTERS]),
    allocation: { callingOps: HEAP_CALLING_OPS, inMemory: (inst) => inst.type === REF || inst.type === DERIVED },
    allocated: (ir: Func, details: AllocationDetails) => {
      base.allocated?.(ir, details);
      const problems = gcPointProblems(ir, details.allocated);
      if (problems.length > 0) throw new GcPointError(problems);
    },
    gcPoint: (site, returnOffset, mi, fn) => {
      base.gcPoint?.(site, returnOffset, mi, fn);
      gcTable(site).points.set(returnOffset, { frame: site.frame, slots: rootSlots(mi, fn, valueTypes(fn)) });
    },
  };
}
