/**
 * Chapter 11: arrays and records in the baseline tier (chapter 07's templates, at chapter
 * 10's level), with inline bump allocation and exact roots from machine frames.
 *
 * Allocation, inline (see heap.ts for the heap's context block):
 *
 *   t1 = [ctx + heapContext]              the heap's block: top at +0
 *   object = [t1 + CONTEXT_TOP]
 *   end = object + bytes
 *   if end >u [ctx + allocationLimit]: slow path     (the limit is 0 under --gc-stress)
 *   [t1 + CONTEXT_TOP] = end
 *   [object] = header                                (count << 32 | shape × 2)
 *
 * The slow path records where it is (fp, and the pc of its site, as chapter 10's throw stub
 * does) and calls `jot_allocate(shape, count)`, which lets the heap collect and retry. Its
 * roots are the frames of the running machine segment: chapter 10's `segmentFrames` walks
 * them by the frame-pointer chain, and the stack map of each frame's GC point (its call, or
 * the allocation itself for the innermost frame), found by the machine offset of that point,
 * names the frame slots that hold references. Nothing is registered at run time.
 *
 * Element and field accesses check for null (`null access`) and element indexes against the
 * count in the header (`index out of bounds`, one unsigned compare); both throw chapter 10's
 * exceptions at the instruction's line, caught by the handler covering it. An allocation
 * that cannot fit even after a collection ends the run with `out of memory`, as in the
 * interpreter: no handler catches it. The runtime removes every frame of the segment (their
 * saved registers restored, as the unwinder does) and the machine code resumes at the entry
 * stub's `pending` path through the out-of-memory stub, emitted once after the entry stub.
 *
 * The optimizing tier compiles the heap too (opt-heap.ts): its frames keep every reference
 * live across a GC point in a stack slot, and each of its GC points has a map of those slots,
 * which the collector reads as it reads a baseline frame's.
 */
import koffi from 'koffi';
import { copyIn, copyOut } from '#native/libc.ts';
import { RuntimeError } from '#ch06/interpreter.ts';
import type { CodeRegion } from '#ch01/code-region.ts';
import type { Frame, Label, Register } from '#ch04/macro-assembler.ts';
import { Op, lineAt, readU16, type CompiledFunction, type StackMap } from '#ch06/bytecode.ts';
import { emitRuntimeCall, extendJit, type JitLevel, type RunState, type Template, type TemplateContext } from '#ch07/compiler.ts';
import { extendContext } from '#ch07/runtime.ts';
import type { JitProgram } from '#ch07/jit.ts';
import { RUNTIME_ERROR_PAYLOADS } from '#ch10/errors.ts';
import { handlersOf, type HandlerEntry } from '#ch10/handlers.ts';
import { handlerAt } from '#ch10/jit-level.ts';
import { EX, EXCEPTIONS_CONTEXT, emitThrow, savedField, unwindTable } from '#ch10/stubs.ts';
import { offsetOf, type HandlerTarget } from '#ch10/unwind-table.ts';
import { ContextWords, pageReader, segmentFrames, setResume } from '#ch10/unwinder.ts';
import { UncaughtException } from '#ch10/errors.ts';
import type { TraceFrame } from '#ch10/trace.ts';
import { createMacroAssembler } from '#ch04/masm.ts';
import type { MacroAssembler } from '#ch04/macro-assembler.ts';
import { jitRegisters, type CodeTables } from '#ch07/compiler.ts';
import { collect } from './collector.ts';
import { CONTEXT_LIMIT, CONTEXT_TOP, HEADER_BYTES, OutOfMemory, objectBytes, type Heap, type RootWalker } from './heap.ts';
import { HEAP_LANGUAGE } from './language.ts';
import { recordsOf, referenceFields } from './records.ts';
import { isReference } from './rules.ts';
import { emitHeapError, emitHeapOutOfLine, heapOptimizing } from './opt-heap.ts';
import type { OptimizingMachineHooks } from '#ch09/codegen.ts';
import { todo } from '#native/todo.ts';

/** Chapter 11's context fields, after chapter 10's. */
export const HEAP_CONTEXT = extendContext(EXCEPTIONS_CONTEXT, [
  'heapContext', //      address of the heap's context block (top, limit)
  'allocationLimit', //  the limit the fast path compares with: the heap's, or 0 to force the slow path
  'allocate', //         address of jot_allocate(shape, count) → object, or 0 when out of memory
  'fastAllocations', //  objects the fast path made
  'errorIndex', //       the index and length of the last bounds error, for its message
  'errorLength',
]);
const HX = HEAP_CONTEXT.offsets as Readonly<Record<string, number>>;

/** Runtime error kinds after chapter 07's (which are 0 and 1). */
export const HEAP_ERROR_KIND = { indexOutOfBounds: 2, nullAccess: 3, arrayLength: 4 } as const;

/** Record type k has shape id FIRST_RECORD_SHAPE + k on every heap a compiled program runs on. */
export const FIRST_RECORD_SHAPE = 3;

const opcode = (name: string): number => HEAP_LANGUAGE.opcodes.byName.get(name)!.code;

/** A GC point of a baseline frame: the function and the bytecode offset whose stack map applies. */
interface BaselineGcPoint {
  readonly fn: CompiledFunction;
  readonly pc: number;
  readonly frame: Frame;
}

/** A GC point of an optimized frame: the stack slots that hold references there. */
interface OptimizedGcPoint {
  readonly frame: Frame;
  readonly slots: readonly number[];
}

type GcPoint = BaselineGcPoint | OptimizedGcPoint;

/** Per program: machine offset of each GC point (a call's return offset, an allocation's site) → its map. */
export class GcTable {
  readonly points = new Map<number | Label, GcPoint>();
  #byOffset: Map<number, GcPoint> | undefined;
  /** The out-of-memory stub: the resume sequence to the entry stub's `pending` path. */
  outOfMemory: Label | undefined;

  at(offset: number): GcPoint | undefined {
    // Rebuilt when points were added since (chapter 12 compiles functions while the program runs).
    if (this.#byOffset === undefined || this.#byOffset.size !== this.points.size) {
      this.#byOffset = new Map();
      for (const [at, point] of this.points) this.#byOffset.set(typeof at === 'number' ? at : at.offset!, point);
    }
    return this.#byOffset.get(offset);
  }
}

export function gcTable(t: { readonly tables: CodeTables }): GcTable {
  return t.tables.get('gc-stack-maps', () => new GcTable());
}

/** An out-of-line runtime error of this function. */
interface ErrorStub {
  readonly label: Label;
  readonly kind: number;
  readonly line: number;
  readonly pc: number;
  /** Registers holding the index and the length (bounds errors), stored for the message. */
  readonly detail?: readonly [Register, Register];
}

/** An out-of-line slow path of an allocation. */
interface SlowPath {
  readonly label: Label;
  readonly back: Label;
  readonly shape: number;
  /** A constant count (records), or the slot holding it (arrays). */
  readonly count: { readonly constant: number } | { readonly slot: number };
  readonly line: number;
  readonly pc: number;
}

interface FunctionState {
  readonly errors: ErrorStub[];
  readonly slow: SlowPath[];
  readonly landings: Map<HandlerEntry, HandlerTarget>;
}

const states = new WeakMap<CompiledFunction, FunctionState>();

function stateOf(t: TemplateContext): FunctionState {
  let state = states.get(t.fn);
  if (state === undefined) states.set(t.fn, (state = { errors: [], slow: [], landings: new Map() }));
  return state;
}

/** This function's own landing pad for handler `h` (emitted after the body, like chapter 10's). */
function landingFor(t: TemplateContext, pc: number): HandlerTarget | undefined {
  const h = handlerAt(handlersOf(t.fn), pc);
  if (h === undefined) return undefined;
  const state = stateOf(t);
  let target = state.landings.get(h);
  if (target === undefined) {
    target = { landing: t.masm.newLabel(`${t.fn.name}.heapcatch${state.landings.size}`), depth: h.depth, target: h.target };
    state.landings.set(h, target);
  }
  return target;
}

function errorStub(t: TemplateContext, kind: number, detail?: readonly [Register, Register]): Label {
  const state = stateOf(t);
  const line = lineAt(t.fn, t.pc);
  if (detail === undefined) {
    const existing = state.errors.find((s) => s.kind === kind && s.pc === t.pc);
    if (existing !== undefined) return existing.label;
  }
  const label = t.masm.newLabel(`${t.fn.name}.heaperror${state.errors.length}`);
  state.errors.push({ label, kind, line, pc: t.pc, ...(detail === undefined ? {} : { detail }) });
  return label;
}

/** The templates' extra scratch registers: argument registers, free between instructions (not the result register). */
function temps(t: TemplateContext): readonly [Register, Register, Register] {
  const { args } = t.masm.regs;
  return [args[2]!, args[3]!, args[4]!];
}

/** Inline allocation of `bytesReg` (or a constant) bytes; the object ends up in t0 and in `slot`. */
function emitAllocation(t: TemplateContext, size: { readonly constant: number } | { readonly words: Register }, header: Register, slow: SlowPath): void {
  // TODO: the inline fast path of an allocation (the top comment of this file has it in
  // pseudocode). Registers: ctx, t0 and t1 (t.registers) and temps(t)[2] as the new end;
  // `header` holds the header word, ready to store; nothing else may be overwritten.
  //   - the heap's context block is at [ctx + HX.heapContext]; top is at CONTEXT_TOP in it
  //   - the object starts at top: it goes in t0, where the template expects it
  //   - its end is top + size: size.constant bytes, or size.words slots plus the header
  //     (masm.addScaled(dst, base, index, scale, displacement) computes base + index × scale
  //     + displacement)
  //   - compare the end, unsigned, with the limit at [ctx + HX.allocationLimit] (not the
  //     heap's own: under --gc-stress it is 0); past it, jump to slow.label
  //   - otherwise store the end as the new top and the header at [object]: the slots are zero
  //     already. Count the object: add 1 to [ctx + HX.fastAllocations]
  //   - bind slow.back last: the slow path comes back there with the object in t0
  return todo('emitAllocation');
}

const newArray: Template = (t) => {
  const { masm } = t;
  const { t0 } = t.registers;
  const [words, header] = temps(t);
  const shape = t.fn.code[t.pc + 1]!;
  const slot = t.slot(t.depth - 1);
  const state = stateOf(t);
  const slow: SlowPath = { label: masm.newLabel(`${t.fn.name}.allocate${state.slow.length}`), back: masm.newLabel(), shape, count: { slot }, line: lineAt(t.fn, t.pc), pc: t.pc };
  state.slow.push(slow);
  masm.loadSlot(t0, slot);
  masm.branchIfImmediate('lt', t0, 0, errorStub(t, HEAP_ERROR_KIND.arrayLength));
  masm.comment('a count of 2^31 or more does not fit in a header: the slow path says out of memory');
  masm.shrImmediate(words, t0, 31);
  masm.branchIfNonZero(words, slow.label);
  masm.comment('header: count << 32 | shape × 2; slots after it: max(count, 1)');
  masm.shlImmediate(header, t0, 32);
  masm.moveImmediate(words, BigInt(shape * 2));
  masm.or(header, header, words);
  const nonEmpty = masm.newLabel();
  masm.move(words, t0);
  masm.branchIfImmediate('ne', words, 0, nonEmpty);
  masm.moveImmediate(words, 1n);
  masm.bind(nonEmpty);
  emitAllocation(t, { words }, header, slow);
  masm.storeSlot(t0, slot);
};

const newRecord: Template = (t) => {
  const { masm } = t;
  const { t0 } = t.registers;
  const [, header] = temps(t);
  const k = readU16(t.fn.code, t.pc + 1);
  const layout = recordsOf(t.fn)[k]!;
  const count = layout.fields.length;
  const shape = FIRST_RECORD_SHAPE + k;
  const state = stateOf(t);
  const slow: SlowPath = { label: masm.newLabel(`${t.fn.name}.allocate${state.slow.length}`), back: masm.newLabel(), shape, count: { constant: count }, line: lineAt(t.fn, t.pc), pc: t.pc };
  state.slow.push(slow);
  masm.moveImmediate(header, (BigInt(count) << 32n) | BigInt(shape * 2));
  emitAllocation(t, { constant: objectBytes(count) }, header, slow);
  masm.storeSlot(t0, t.slot(t.depth));
  t.depth++;
};

/** t0 = the array in slot a, t1 = the index in slot i, checked; the element is at [t0 + t1 × 8 + 8]. */
function checkedElement(t: TemplateContext, a: number, i: number): void {
  // TODO: load the array (slot a) into t0 and the index (slot i) into t1, checked, with
  // temps(t)[0] as the one more register you need:
  //   - a null array (0) jumps to errorStub(t, HEAP_ERROR_KIND.nullAccess)
  //   - the length is the high 32 bits of the header word at [t0]
  //   - an index outside 0 … length - 1 jumps to errorStub(t, HEAP_ERROR_KIND.indexOutOfBounds,
  //     [t1, the length's register]), which stores both for the message. One compare can
  //     tell both ends: what is a negative index, read as an unsigned number?
  return todo('checkedElement');
}

const loadElement: Template = (t) => {
  const a = t.slot(t.depth - 2);
  checkedElement(t, a, t.slot(t.depth - 1));
  const { t0, t1 } = t.registers;
  t.masm.loadIndexed(t0, t0, t1, HEADER_BYTES);
  t.masm.storeSlot(t0, a);
  t.depth--;
};

const storeElement: Template = (t) => {
  checkedElement(t, t.slot(t.depth - 3), t.slot(t.depth - 2));
  const { t0, t1 } = t.registers;
  const [, value] = temps(t);
  t.masm.loadSlot(value, t.slot(t.depth - 1));
  t.masm.storeIndexed(value, t0, t1, HEADER_BYTES);
  t.depth -= 3;
};

const arrayLength: Template = (t) => {
  const { masm } = t;
  const { t0 } = t.registers;
  const slot = t.slot(t.depth - 1);
  masm.loadSlot(t0, slot);
  masm.branchIfZero(t0, errorStub(t, HEAP_ERROR_KIND.nullAccess));
  masm.load(t0, t0, 0);
  masm.shrImmediate(t0, t0, 32);
  masm.storeSlot(t0, slot);
};

const initField: Template = (t) => {
  const { t0, t1 } = t.registers;
  const field = t.fn.code[t.pc + 1]!;
  t.masm.loadSlot(t0, t.slot(t.depth - 2));
  t.masm.loadSlot(t1, t.slot(t.depth - 1));
  t.masm.store(t1, t0, HEADER_BYTES + 8 * field);
  t.depth--;
};

const loadField: Template = (t) => {
  const { t0 } = t.registers;
  const slot = t.slot(t.depth - 1);
  t.masm.loadSlot(t0, slot);
  t.masm.branchIfZero(t0, errorStub(t, HEAP_ERROR_KIND.nullAccess));
  t.masm.load(t0, t0, HEADER_BYTES + 8 * t.fn.code[t.pc + 1]!);
  t.masm.storeSlot(t0, slot);
};

const storeField: Template = (t) => {
  const { t0, t1 } = t.registers;
  t.masm.loadSlot(t0, t.slot(t.depth - 2));
  t.masm.branchIfZero(t0, errorStub(t, HEAP_ERROR_KIND.nullAccess));
  t.masm.loadSlot(t1, t.slot(t.depth - 1));
  t.masm.store(t1, t0, HEADER_BYTES + 8 * t.fn.code[t.pc + 1]!);
  t.depth -= 2;
};

/** Out of line: the slow paths, the runtime errors, then this function's landing pads. */
function emitOutOfLine(t: TemplateContext): void {
  const { masm, registers } = t;
  const { ctx, t0, t1 } = registers;
  const state = states.get(t.fn);
  if (state === undefined) return;
  const table = unwindTable(t.tables);
  const unwind = table.current!;
  const gc = gcTable(t);
  for (const slow of state.slow) {
    masm.bind(slow.label);
    masm.comment(`allocation at line ${slow.line}: collect and retry in the runtime`);
    masm.moveImmediate(masm.regs.args[0]!, BigInt(slow.shape));
    if ('constant' in slow.count) masm.moveImmediate(masm.regs.args[1]!, BigInt(slow.count.constant));
    else masm.loadSlot(masm.regs.args[1]!, slow.count.slot);
    const site = masm.newLabel(`${t.fn.name}.gc${String(slow.pc).padStart(4, '0')}`);
    masm.loadLabelAddress(t1, site);
    masm.store(t1, ctx, EX.exitPc!);
    masm.store(masm.regs.fp, ctx, EX.exitFp!);
    masm.comment('the callee-saved registers, for the out-of-memory path (the runtime replaces those frames saved)');
    masm.regs.calleeSaved.forEach((reg, i) => masm.store(reg, ctx, savedField(i)));
    masm.bind(site);
    emitRuntimeCall(masm, registers, HX.allocate!, t1);
    gc.points.set(site, { fn: t.fn, pc: slow.pc, frame: t.frame });
    unwind.sites.push({ kind: 'call', at: site, line: slow.line, handler: undefined });
    masm.move(t0, masm.regs.result);
    masm.branchIfNonZero(t0, slow.back);
    masm.comment('out of memory: the runtime removed every frame; resume at the entry stub');
    masm.jump(gc.outOfMemory!);
  }
  for (const stub of state.errors) {
    masm.bind(stub.label);
    const payload = stub.kind === HEAP_ERROR_KIND.nullAccess ? RUNTIME_ERROR_PAYLOADS.nullAccess.payload : RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.payload;
    masm.comment(`${stub.kind === HEAP_ERROR_KIND.nullAccess ? 'null access' : 'index out of bounds'} at line ${stub.line}: throw ${payload}`);
    if (stub.detail !== undefined) {
      masm.store(stub.detail[0], ctx, HX.errorIndex!);
      masm.store(stub.detail[1], ctx, HX.errorLength!);
    } else if (stub.kind === HEAP_ERROR_KIND.arrayLength) {
      masm.store(t0, ctx, HX.errorIndex!);
    }
    masm.moveImmediate(masm.regs.args[0]!, payload);
    const at = emitThrow(masm, table, stub.kind + 1);
    unwind.sites.push({ kind: 'throw', at, line: stub.line, handler: landingFor(t, stub.pc) });
  }
  for (const target of state.landings.values()) {
    masm.bind(target.landing);
    masm.comment(`catch: the payload onto the operand stack at depth ${target.depth}, then the catch block`);
    masm.storeSlot(masm.regs.result, t.slot(target.depth));
    masm.jump(t.jumpTarget(target.target, target.depth + 1));
  }
  states.delete(t.fn);
}

/** chapter 10's entry stub, then the out-of-memory stub: callee-saved registers, sp, fp and pc from the context. */
function emitHeapEntry(base: NonNullable<JitLevel['entry']>): NonNullable<JitLevel['entry']> {
  return (masm: MacroAssembler, main: Label, tables: CodeTables) => {
    base(masm, main, tables);
    const r = jitRegisters(masm);
    const { calleeSaved, sp, fp } = masm.regs;
    const stub = masm.newLabel('out-of-memory');
    masm.bind(stub);
    masm.comment('out of memory: the runtime wrote where the entry stub resumes, and the registers to restore');
    calleeSaved.forEach((reg, i) => {
      if (reg !== r.ctx) masm.load(reg, r.ctx, savedField(i));
    });
    masm.load(r.callsLeft, r.ctx, EX.callsLeft!);
    masm.load(r.t1, r.ctx, EX.resumeSp!);
    masm.move(sp, r.t1);
    masm.load(fp, r.ctx, EX.resumeFp!);
    masm.load(r.t1, r.ctx, EX.resumePc!);
    masm.jumpRegister(r.t1);
    gcTable({ tables }).outOfMemory = stub;
  };
}

// ── the run: the heap each program runs on, and jot_allocate ─────────────────────────

const allocateType = koffi.pointer(koffi.proto('int64_t jot_allocate(int64_t shape, int64_t count)'));

interface HeapRun {
  readonly heap: Heap;
  handle: bigint;
  /** The out-of-memory error that ended the run, if one did. */
  outOfMemory: { readonly message: string; readonly trace: readonly TraceFrame[] } | undefined;
  /** Bytes of the heap in use when the runtime last looked: what the fast path made since is counted then. */
  used: number;
}

const heaps = new WeakMap<JitProgram, HeapRun>();
/** The detail of the last heap error's message (the run in progress; runs do not overlap). */
let lastDetail = { index: 0n, length: 0n };

/** Runs of `program` allocate on `heap` (until another heap is given). */
export function useHeap(program: JitProgram, heap: Heap): void {
  heaps.set(program, { heap, handle: 0n, outOfMemory: undefined, used: 0 });
}

function writeWord(context: CodeRegion, offset: number, value: bigint): void {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  context.write(offset, bytes);
}

function readWord(context: CodeRegion, offset: number): bigint {
  return new DataView(copyOut(context.address + BigInt(offset), 8).buffer).getBigUint64(0, true);
}

const rootSlotsOf = new WeakMap<StackMap, readonly number[]>();

/** The frame slots of `fn` that `map` says hold references. */
function rootSlots(fn: CompiledFunction, map: StackMap): readonly number[] {
  let slots = rootSlotsOf.get(map);
  if (slots === undefined) {
    slots = [
      ...map.locals.filter((local) => isReference(local.type)).map((local) => local.slot),
      ...map.stack.flatMap((type, i) => (isReference(type) ? [fn.locals + i] : [])),
    ];
    rootSlotsOf.set(map, slots);
  }
  return slots;
}

/** The roots of the machine segment stopped at (pc, fp): every reference slot of every baseline frame. */
export function machineRoots(program: JitProgram, code: bigint, entryRecord: bigint, pc: bigint, fp: bigint): RootWalker {
  const table = unwindTable(program.tables);
  const gc = gcTable(program);
  return (visit) => {
    const machine = { base: code, entryRecord, read: pageReader() };
    for (const frame of segmentFrames(table, machine, pc, fp)) {
      const point = gc.at(Number(frame.pc - code));
      if (point === undefined) throw new Error(`no GC point at code offset ${Number(frame.pc - code)} of '${frame.fn.name}'`);
      let slots: readonly number[];
      if ('slots' in point) slots = point.slots;
      else {
        const map = point.fn.stackMaps.get(point.pc);
        if (map === undefined) throw new Error(`no stack map at offset ${point.pc} of '${point.fn.name}'`);
        slots = rootSlots(point.fn, map);
      }
      for (const slot of slots) {
        const address = frame.fp + BigInt(point.frame.slotOffset(slot));
        const old = machine.read(address);
        const moved = visit(old);
        if (moved !== old) {
          const bytes = new Uint8Array(8);
          new DataView(bytes.buffer).setBigUint64(0, moved, true);
          copyIn(address, bytes);
        }
      }
    }
  };
}

function limitOf(heap: Heap): bigint {
  return heap.stress ? 0n : heap.context[CONTEXT_LIMIT / 8]!;
}

function beforeRun(context: CodeRegion, run: RunState): void {
  const record = heaps.get(run.program);
  if (record === undefined) throw new Error('this program uses the heap: give it one with useHeap(program, heap) before it runs');
  const { heap } = record;
  heap.collector = collect;
  const records = recordsOf(run.program.program.functions[0]!);
  records.forEach((layout, k) => {
    if (heap.shapes.length === FIRST_RECORD_SHAPE + k) heap.addShape({ name: layout.name, references: referenceFields(layout) });
  });
  record.used = heap.used;
  lastDetail = { index: 0n, length: 0n };
  record.outOfMemory = undefined;
  const table = unwindTable(run.program.tables);
  const calleeSaved = createMacroAssembler(run.program.arch).regs.calleeSaved;
  /** Out of memory ends the run: every frame of the segment goes, as an uncaught exception's do. */
  const endRun = (message: string) => {
    const words = new ContextWords(context);
    const entryRecord = words.get(EX.entryRecord!);
    const machine = { base: run.code.address, entryRecord, read: pageReader() };
    const frames: { fn: { index: number; name: string }; line: number }[] = [];
    const restore = new Map<Register, bigint>();
    for (const frame of segmentFrames(table, machine, words.get(EX.exitPc!), words.get(EX.exitFp!))) {
      frames.push({ fn: frame.fn, line: frame.site.line });
      for (const { register, offset } of frame.fn.saved) restore.set(register, machine.read(frame.fp + BigInt(offset)));
    }
    const entry = table.entry!;
    setResume(words, calleeSaved, { frames: [], caught: false, sp: entryRecord - BigInt(entry.frameSize), fp: entryRecord, pc: run.code.address + BigInt(offsetOf(entry.pending)), removed: frames.length, restore }, 0n);
    words.flush();
    const trace = frames.map((f) => ({ name: run.program.program.functions[f.fn.index]?.name ?? f.fn.name, line: f.line }));
    record.outOfMemory = { message, trace };
  };
  record.handle = koffi.register((shapeIn: number | bigint, countIn: number | bigint): bigint => {
    run.runtime.callbacks++;
    const shape = Number(shapeIn);
    const count = BigInt(countIn);
    heap.stats.bytesAllocated += heap.used - record.used;
    try {
      const roots = machineRoots(run.program, run.code.address, readWord(context, EX.entryRecord!), readWord(context, EX.exitPc!), readWord(context, EX.exitFp!));
      const object = heap.allocate(shape, count > 0x7fff_ffffn ? Number.MAX_SAFE_INTEGER : Number(count), roots);
      record.used = heap.used;
      writeWord(context, HX.allocationLimit!, limitOf(heap));
      return object;
    } catch (error) {
      record.used = heap.used;
      if (error instanceof OutOfMemory) {
        const what = shape < FIRST_RECORD_SHAPE ? `an array of ${count} elements` : `a ${heap.shapes[shape]?.name ?? 'record'}`;
        try {
          endRun(`out of memory: ${what} does not fit in a semispace of ${heap.semispaceBytes} bytes`);
        } catch (walkError) {
          run.runtime.hostError ??= walkError;
        }
      } else {
        run.runtime.hostError ??= error;
      }
      return 0n;
    }
  }, allocateType);
  writeWord(context, HX.heapContext!, heap.contextMapping.address);
  writeWord(context, HX.allocationLimit!, limitOf(heap));
  writeWord(context, HX.allocate!, record.handle);
  writeWord(context, HX.fastAllocations!, 0n);
}

function afterRun(context: CodeRegion, run: RunState): void {
  const record = heaps.get(run.program);
  if (record === undefined) return;
  koffi.unregister(record.handle);
  const { heap } = record;
  heap.stats.bytesAllocated += heap.used - record.used;
  record.used = heap.used;
  heap.stats.objectsAllocated += Number(readWord(context, HX.fastAllocations!));
  lastDetail.index = BigInt.asIntN(64, readWord(context, HX.errorIndex!));
  lastDetail.length = readWord(context, HX.errorLength!);
  const oom = record.outOfMemory;
  if (oom !== undefined && run.runtime.error === undefined) {
    run.runtime.error = new UncaughtException(new RuntimeError(oom.message, oom.trace[0]?.line ?? 0), undefined, oom.trace);
  }
}

// ── the level ─────────────────────────────────────────────────────────────────────────

/** Chapter 11's JIT level over chapter 10's. */
export function heapJit(base: JitLevel): JitLevel {
  const call = base.templates.get(Op.call)!;
  const callWithMap: Template = (t) => {
    call(t);
    const sites = unwindTable(t.tables).current!.sites;
    const site = sites[sites.length - 1]!;
    gcTable(t).points.set(site.at, { fn: t.fn, pc: t.pc, frame: t.frame });
  };
  const baseAfterBody = base.afterBody;
  const detail = (kind: number) => () => {
    if (kind === HEAP_ERROR_KIND.nullAccess) return RUNTIME_ERROR_PAYLOADS.nullAccess.message;
    if (kind === HEAP_ERROR_KIND.arrayLength) return `${RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.message} (array length ${lastDetail.index})`;
    return `${RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.message} (index ${lastDetail.index}, length ${lastDetail.length})`;
  };
  return extendJit(base, {
    opcodes: HEAP_LANGUAGE.opcodes,
    templates: new Map<number, Template>([
      [Op.call, callWithMap],
      [opcode('new_array'), newArray],
      [opcode('load_element'), loadElement],
      [opcode('store_element'), storeElement],
      [opcode('array_length'), arrayLength],
      [opcode('new_record'), newRecord],
      [opcode('init_field'), initField],
      [opcode('load_field'), loadField],
      [opcode('store_field'), storeField],
    ]),
    afterBody: (t) => {
      baseAfterBody?.(t);
      emitOutOfLine(t);
    },
    layout: HEAP_CONTEXT,
    entry: emitHeapEntry(base.entry!),
    errors: new Map(Object.values(HEAP_ERROR_KIND).map((kind) => [kind, detail(kind)])),
    beforeRun,
    afterRun,
    machine: heapMachine(base.machine as OptimizingMachineHooks),
  });
}

/** The optimizing tier's hooks at chapter 11's level: the heap's operations, their out-of-line code and their errors. */
function heapMachine(base: OptimizingMachineHooks): OptimizingMachineHooks {
  const { error, afterBody, optimizing } = base;
  if (optimizing === undefined) throw new Error('the heap needs an optimizing extension from the level below (chapter 10\'s)');
  return {
    ...base,
    optimizing: heapOptimizing(optimizing),
    error: (site, kind, line) => {
      if (!emitHeapError(site, kind, line)) error?.(site, kind, line);
    },
    afterBody: (site) => {
      emitHeapOutOfLine(site);
      afterBody?.(site);
    },
  };
}
