/**
 * Chapter 11: the array and record opcodes in the interpreter, and its frames as roots.
 *
 *   new_array   u8 shape   n → a        a new array of n zeros (n < 0: index out of bounds)
 *   load_element           a i → a[i]
 *   store_element          a i v →      a[i] = v
 *   array_length           a → len(a)
 *   new_record  u16 k      → r          a new record of the program's record type k, zeroed
 *   init_field  u8 f       r v → r      r.f = v, keeping r (r is never null here)
 *   load_field  u8 f       r → r.f
 *   store_field u8 f       r v →        r.f = v
 *
 * `a` or `r` null is the runtime error `null access`; `i` outside 0…len(a)-1 is `index out of
 * bounds (index 5, length 3)`. Both are exceptions with chapter 10's fixed payloads, so a
 * program can catch them.
 *
 * `new_array` and `new_record` are GC points: the heap may collect before it returns. The interpreter's frames
 * are then roots, read by the stack maps the compiler made: for the running frame, the map
 * at the `new_array`; for each caller, the map at its `call`. A map lists the live locals and
 * the operand stack's values by type; the slots whose types are references are the roots,
 * and the collector writes each one back with the object's new address. Nothing else in a
 * frame is looked at: an int that happens to look like an address is left alone.
 */
import { CORE_OPCODES, Op, lineAt, type CompiledFunction, type StackMap } from '#ch06/bytecode.ts';
import { RuntimeError, type InterpreterState, type OpcodeHandler } from '#ch06/interpreter.ts';
import type { OpcodeDefinition } from '#ch06/language.ts';
import { RUNTIME_ERROR_PAYLOADS } from '#ch10/errors.ts';
import { OutOfMemory, type Heap, type RootWalker } from './heap.ts';
import { recordsOf, referenceFields, type RecordLayout } from './records.ts';
import { isReference } from './rules.ts';
import { todo } from '#native/todo.ts';

const CALL_SIZE = CORE_OPCODES.size(Op.call);

/** Visits the reference slots of one frame: `fn`'s frame at `bp`, stopped at the GC point `pc`. */
function visitFrame(fn: CompiledFunction, pc: number, bp: number, stack: BigInt64Array, visit: (reference: bigint) => bigint): void {
  // TODO: the roots of one interpreter frame, typed by its stack map at `pc` (fn.stackMaps).
  //   - no map at pc means the compiler missed a GC point: throw an Error that names the
  //     offset and the function
  //   - map.locals lists the live locals ({ slot, type }): local `slot` is stack[bp + slot]
  //   - map.stack lists the operand stack's types, bottom first: value i is
  //     stack[bp + fn.locals + i]
  //   - every one whose type is a reference (isReference) is a root: replace it by what
  //     visit returns for it (the address of the object after the move)
  // Nothing else in the frame is touched: an int that looks like an address is an int.
  return todo('visitFrame');
}

/** Every frame of the interpreter as roots: the running one at `state.pc`, then each caller at its call. */
export function interpreterRoots(state: InterpreterState): RootWalker {
  // TODO: a RootWalker (a function of `visit`) that visits, with visitFrame:
  //   - the running frame: state.fn, stopped at state.pc, its slots from state.bp
  //   - each caller, innermost first, for depth = state.depth - 1 down to 1:
  //     state.callers.functions[state.callers.function[depth]] with its bp
  //     (callers.bp[depth]), stopped at its call. callers.pc[depth] is the pc *after* the
  //     call (CALL_SIZE bytes on); the stack map is at the call itself.
  return todo('interpreterRoots');
}

/** The runtime errors of arrays, at the line of the instruction at `state.pc`. */
function nullAccess(state: InterpreterState): RuntimeError {
  return new RuntimeError(RUNTIME_ERROR_PAYLOADS.nullAccess.message, lineAt(state.fn, state.pc));
}

function outOfBounds(state: InterpreterState, what: string): RuntimeError {
  return new RuntimeError(`${RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.message} (${what})`, lineAt(state.fn, state.pc));
}

/** The element index `i` of array `a`, checked: null and bounds errors are raised here. */
function element(heap: Heap, state: InterpreterState, a: bigint, i: bigint): number {
  if (a === 0n) throw nullAccess(state);
  const length = heap.count(a);
  if (i < 0n || i >= BigInt(length)) throw outOfBounds(state, `index ${i}, length ${length}`);
  return Number(i);
}

/** The handlers of the array opcodes, allocating on `heap`. */
export function arrayHandlers(heap: Heap): Map<string, OpcodeHandler> {
  return new Map<string, OpcodeHandler>([
    ['new_array', (state) => {
      const { stack, sp } = state;
      const length = stack[sp - 1]!;
      if (length < 0n) throw outOfBounds(state, `array length ${length}`);
      const shape = state.fn.code[state.pc + 1]!;
      let array: bigint;
      try {
        array = heap.allocate(shape, length > 0x7fff_ffffn ? Number.MAX_SAFE_INTEGER : Number(length), interpreterRoots(state));
      } catch (error) {
        if (!(error instanceof OutOfMemory)) throw error;
        throw new RuntimeError(`out of memory: an array of ${length} elements does not fit in a semispace of ${heap.semispaceBytes} bytes`, lineAt(state.fn, state.pc));
      }
      state.stack[sp - 1] = array;
      state.pc += 2;
    }],
    ['load_element', (state) => {
      const { stack } = state;
      const a = stack[state.sp - 2]!;
      const i = element(heap, state, a, stack[state.sp - 1]!);
      stack[state.sp - 2] = heap.load(a, i);
      state.sp -= 1;
      state.pc += 1;
    }],
    ['store_element', (state) => {
      const { stack } = state;
      const a = stack[state.sp - 3]!;
      const i = element(heap, state, a, stack[state.sp - 2]!);
      heap.store(a, i, stack[state.sp - 1]!);
      state.sp -= 3;
      state.pc += 1;
    }],
    ['array_length', (state) => {
      const a = state.stack[state.sp - 1]!;
      if (a === 0n) throw nullAccess(state);
      state.stack[state.sp - 1] = BigInt(heap.count(a));
      state.pc += 1;
    }],
  ]);
}

/** The handlers of the record opcodes, allocating on `heap` (each record type gets a shape there). */
export function recordHandlers(heap: Heap): Map<string, OpcodeHandler> {
  const shapes = new WeakMap<RecordLayout, number>();
  const shapeOf = (layout: RecordLayout): number => {
    let shape = shapes.get(layout);
    if (shape === undefined) shapes.set(layout, (shape = heap.addShape({ name: layout.name, references: referenceFields(layout) })));
    return shape;
  };
  return new Map<string, OpcodeHandler>([
    ['new_record', (state) => {
      const code = state.fn.code;
      const layout = recordsOf(state.fn)[code[state.pc + 1]! | (code[state.pc + 2]! << 8)]!;
      let record: bigint;
      try {
        record = heap.allocate(shapeOf(layout), layout.fields.length, interpreterRoots(state));
      } catch (error) {
        if (!(error instanceof OutOfMemory)) throw error;
        throw new RuntimeError(`out of memory: a ${layout.name} does not fit in a semispace of ${heap.semispaceBytes} bytes`, lineAt(state.fn, state.pc));
      }
      state.stack[state.sp++] = record;
      state.pc += 3;
    }],
    ['init_field', (state) => {
      const { stack } = state;
      heap.store(stack[state.sp - 2]!, state.fn.code[state.pc + 1]!, stack[state.sp - 1]!);
      state.sp -= 1;
      state.pc += 2;
    }],
    ['load_field', (state) => {
      const { stack } = state;
      const record = stack[state.sp - 1]!;
      if (record === 0n) throw nullAccess(state);
      stack[state.sp - 1] = heap.load(record, state.fn.code[state.pc + 1]!);
      state.pc += 2;
    }],
    ['store_field', (state) => {
      const { stack } = state;
      const record = stack[state.sp - 2]!;
      if (record === 0n) throw nullAccess(state);
      heap.store(record, state.fn.code[state.pc + 1]!, stack[state.sp - 1]!);
      state.sp -= 2;
      state.pc += 2;
    }],
  ]);
}

/** The array opcodes; their interpreter handlers come from `arrayHandlers` for each run's heap. */
export const ARRAY_OPCODES: readonly OpcodeDefinition[] = [
  { name: 'new_array', code: 0x60, operands: ['u8'], pops: 1, pushes: 1, gcPoint: true, interpret: noHeap },
  { name: 'load_element', code: 0x61, operands: [], pops: 2, pushes: 1, interpret: noHeap },
  { name: 'store_element', code: 0x62, operands: [], pops: 3, pushes: 0, interpret: noHeap },
  { name: 'array_length', code: 0x63, operands: [], pops: 1, pushes: 1, interpret: noHeap },
];

/** The record opcodes; their interpreter handlers come from `recordHandlers` for each run's heap. */
export const RECORD_OPCODES: readonly OpcodeDefinition[] = [
  { name: 'new_record', code: 0x64, operands: ['u16'], pops: 0, pushes: 1, gcPoint: true, interpret: noHeap },
  { name: 'init_field', code: 0x65, operands: ['u8'], pops: 2, pushes: 1, interpret: noHeap },
  { name: 'load_field', code: 0x66, operands: ['u8'], pops: 1, pushes: 1, interpret: noHeap },
  { name: 'store_field', code: 0x67, operands: ['u8'], pops: 2, pushes: 0, interpret: noHeap },
];

function noHeap(): never {
  throw new Error('an array opcode ran without a heap: run the program with the level from heapInterpreter(heap)');
}
