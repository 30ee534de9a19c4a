/**
 * Chapter 06: the bytecode interpreter, the baseline every later tier is measured against.
 *
 * One loop reads an opcode, jumps to the code for it, and repeats. All frames share one
 * value stack, a `BigInt64Array`:
 *
 *         ┌──────────── frame of the caller ───────────┐┌──────── frame of the callee ────────┐
 *   stack │ locals … │ operand stack … │ arg0 │ arg1 ││ … │ (more locals) │ operand stack …
 *                                       ▲ bp of the callee
 *
 * A call does not copy its arguments: the values the caller pushed become the callee's
 * first local slots, and the callee's base pointer (bp) points at the first of them. A
 * return drops the callee's frame and pushes the result where the arguments were.
 *
 * Storing a BigInt into a BigInt64Array wraps it to 64 bits, two's complement: the stack
 * itself implements Jot's wrapping arithmetic, and `a + b` needs no `BigInt.asIntN`.
 *
 * The loop is one `switch` over the core opcodes. An opcode a later chapter adds reaches
 * the `default` branch, which hands the machine's registers to that opcode's handler from
 * the `InterpreterLevel` the program runs with, and takes them back.
 *
 * A `RuntimeError` raised while the loop runs (by the loop itself or by such a handler) ends
 * the run, unless the level has a `raise` hook: then the hook gets the machine's registers
 * and the callers' saved state, and either points them at a handler, where the loop goes on,
 * or throws the error that ends the run (chapter 10's exceptions).
 */
import { CORE_OPCODES, Op, lineAt, type CompiledFunction, type CompiledProgram, type OpcodeSet } from './bytecode.ts';

/** Active calls allowed at once, `main` included. The call that would make one more fails. */
export const MAX_CALL_DEPTH = 10_000;

// @book:start runtime-error
/** An error while the program runs: `division by zero at line 3`. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  /** The source line of the failing instruction. */
  readonly line: number;
  /** The message without ` at line N`: `division by zero`. */
  readonly detail: string;

  constructor(detail: string, line: number) {
    super(`${detail} at line ${line}`);
    this.detail = detail;
    this.line = line;
  }
}
// @book:end runtime-error

// @book:start level
/** The machine's registers, lent to the handler of a later chapter's opcode. */
export interface InterpreterState {
  stack: BigInt64Array;
  /** The first free slot of the stack. */
  sp: number;
  /**
   * The first local of the running function. A handler that moves to another frame (a call
   * or a return of chapter 12's) sets `bp`, `fn` and `depth` too, and keeps `callers` as
   * chapter 06's `call` and `ret` do.
   */
  bp: number;
  fn: CompiledFunction;
  /** The offset of the instruction; the handler sets it to where to continue. */
  pc: number;
  readonly print: (text: string) => void;
  /** Active calls, main included: 1 when `fn` is main's frame. */
  depth: number;
  /** The callers' saved state, for a handler that walks every frame (a garbage collector). */
  readonly callers: SavedFrames;
}

/**
 * The saved state of each caller, indexed by the depth of the caller's own frame (main's is
 * 1, the running function's caller is `depth - 1`): its function's index in `functions`, the
 * pc after its call, and its base pointer. Only entries below the running depth are valid.
 */
export interface SavedFrames {
  readonly functions: readonly CompiledFunction[];
  readonly function: Int32Array;
  readonly pc: Int32Array;
  readonly bp: Int32Array;
}

/** Runs one instruction of a later chapter's opcode; throws `RuntimeError` for a runtime error. */
export type OpcodeHandler = (state: InterpreterState) => void;

/**
 * The machine when a runtime error is raised, lent to the level's `raise` hook. At first
 * `fn` is the running function and `pc` the offset of the instruction that failed. The hook
 * moves to a caller only with `popFrame`, and sets `pc` and `sp` (and the values on the
 * stack) to continue at a handler.
 */
export interface RaiseState {
  stack: BigInt64Array;
  /** The first free slot of the stack. */
  sp: number;
  /** The first local of `fn`'s frame. */
  bp: number;
  fn: CompiledFunction;
  /** The offset of the failing instruction; in a caller, the offset of its `call`. */
  pc: number;
  /** Active calls, main included: 1 when `fn` is main's frame. */
  depth: number;
  /** Drops `fn`'s frame: its caller becomes `fn`, at its call. Main has no caller. */
  popFrame(): void;
}

/**
 * Where a runtime error goes: the hook either points `state` at a handler and returns (the
 * loop goes on from there), or throws the error that ends the run.
 */
export type RaiseHook = (error: RuntimeError, state: RaiseState) => void;

/** What a chapter adds to the interpreter. A value: extending returns a new level. */
export interface InterpreterLevel {
  readonly opcodes: OpcodeSet;
  /** Handlers by opcode number, for the opcodes the core switch does not know. */
  readonly handlers: ReadonlyMap<number, OpcodeHandler>;
  /** Where a runtime error goes; without a hook it ends the run. */
  readonly raise?: RaiseHook;
}

export const CORE_INTERPRETER: InterpreterLevel = Object.freeze({ opcodes: CORE_OPCODES, handlers: new Map() });

/** A new level with `opcodes` in place of base's, `handlers` added to base's, and base's `raise`. */
export function extendInterpreter(base: InterpreterLevel, opcodes: OpcodeSet, handlers: ReadonlyMap<number, OpcodeHandler>): InterpreterLevel {
  return Object.freeze({ opcodes, handlers: new Map([...base.handlers, ...handlers]), raise: base.raise });
}
// @book:end level

export interface RunOptions {
  /** Receives each printed line, without its newline. Default: `console.log`. */
  readonly print?: (text: string) => void;
  /** The opcodes and handlers of the language level the program was compiled for. */
  readonly level?: InterpreterLevel;
}

/** Runs `main` of a compiled program; returns its result. Throws `RuntimeError`. */
export function run(program: CompiledProgram, options: RunOptions = {}): bigint {
  return new Interpreter(program, options.print ?? ((text) => console.log(text)), options.level ?? CORE_INTERPRETER).run();
}

class Interpreter {
  readonly #functions: readonly CompiledFunction[];
  readonly #main: number;
  readonly #print: (text: string) => void;
  /** The level's handlers by opcode number. */
  readonly #handlers: readonly (OpcodeHandler | undefined)[];
  /** The level's `raise` hook, if it has one. */
  readonly #raise: RaiseHook | undefined;

  constructor(program: CompiledProgram, print: (text: string) => void, level: InterpreterLevel) {
    this.#functions = program.functions;
    this.#main = program.main;
    this.#print = print;
    const handlers: (OpcodeHandler | undefined)[] = new Array(256).fill(undefined);
    for (const [opcode, handler] of level.handlers) handlers[opcode] = handler;
    this.#handlers = handlers;
    this.#raise = level.raise;
  }

  // @book:start run
  run(): bigint {
    const functions = this.#functions;
    const print = this.#print;
    const handlers = this.#handlers;
    const raise = this.#raise;
    let stack: BigInt64Array = new BigInt64Array(4096);

    // The saved state of each caller, at the depth of the caller's own frame (main's is 1):
    // which function, the pc after its call (where to continue), its base pointer.
    const savedFunction = new Int32Array(MAX_CALL_DEPTH);
    const savedPc = new Int32Array(MAX_CALL_DEPTH);
    const savedBp = new Int32Array(MAX_CALL_DEPTH);
    let depth = 1; // active calls, main included
    const callers: SavedFrames = { functions, function: savedFunction, pc: savedPc, bp: savedBp };

    // The registers of the machine: the running function and its code, pc, bp and sp.
    let fn = functions[this.#main]!;
    let code = fn.code;
    let constants = fn.constants;
    let pc = 0;
    let bp = 0;
    let sp = fn.locals; // main's locals are slots 0…locals-1, all zero
    if (bp + fn.locals + fn.maxStack > stack.length) stack = grow(stack, bp + fn.locals + fn.maxStack);

    // The loop runs inside a try: a RuntimeError raised in it goes to the level's `raise`
    // hook, and the loop goes on where the hook points the registers.
    for (;;) {
      try {
        for (;;) {
          const opcode = code[pc]!;
          switch (opcode) {
            case Op.const:
              stack[sp++] = constants[code[pc + 1]! | (code[pc + 2]! << 8)]!;
              pc += 3;
              break;
            case Op.load:
              stack[sp++] = stack[bp + code[pc + 1]!]!;
              pc += 2;
              break;
            case Op.store:
              stack[bp + code[pc + 1]!] = stack[--sp]!;
              pc += 2;
              break;
            case Op.pop:
              sp--;
              pc += 1;
              break;
            // @book:end run
            case Op.add:
              sp--;
              stack[sp - 1] = stack[sp - 1]! + stack[sp]!;
              pc += 1;
              break;
            case Op.sub:
              sp--;
              stack[sp - 1] = stack[sp - 1]! - stack[sp]!;
              pc += 1;
              break;
            case Op.mul:
              sp--;
              stack[sp - 1] = stack[sp - 1]! * stack[sp]!;
              pc += 1;
              break;
            case Op.div:
            case Op.mod: {
              const b = stack[--sp]!;
              if (b === 0n) throw new RuntimeError('division by zero', lineAt(fn, pc));
              // BigInt division truncates toward zero and % takes the dividend's sign, as in C.
              // INT64_MIN / -1 is 2^63, which the store wraps back to INT64_MIN.
              stack[sp - 1] = opcode === Op.div ? stack[sp - 1]! / b : stack[sp - 1]! % b;
              pc += 1;
              break;
            }
            case Op.neg:
              stack[sp - 1] = -stack[sp - 1]!;
              pc += 1;
              break;
            case Op.bit_and:
              sp--;
              stack[sp - 1] = stack[sp - 1]! & stack[sp]!;
              pc += 1;
              break;
            case Op.bit_or:
              sp--;
              stack[sp - 1] = stack[sp - 1]! | stack[sp]!;
              pc += 1;
              break;
            case Op.bit_xor:
              sp--;
              stack[sp - 1] = stack[sp - 1]! ^ stack[sp]!;
              pc += 1;
              break;
            case Op.bit_not:
              stack[sp - 1] = ~stack[sp - 1]!;
              pc += 1;
              break;
            case Op.shl:
              sp--;
              stack[sp - 1] = stack[sp - 1]! << (stack[sp]! & 63n);
              pc += 1;
              break;
            case Op.sar:
              sp--;
              stack[sp - 1] = stack[sp - 1]! >> (stack[sp]! & 63n);
              pc += 1;
              break;
            case Op.shr:
              sp--;
              stack[sp - 1] = BigInt.asUintN(64, stack[sp - 1]!) >> (stack[sp]! & 63n);
              pc += 1;
              break;
            case Op.not:
              stack[sp - 1] = stack[sp - 1]! ^ 1n;
              pc += 1;
              break;
            case Op.eq:
              sp--;
              stack[sp - 1] = stack[sp - 1] === stack[sp] ? 1n : 0n;
              pc += 1;
              break;
            case Op.ne:
              sp--;
              stack[sp - 1] = stack[sp - 1] !== stack[sp] ? 1n : 0n;
              pc += 1;
              break;
            case Op.lt:
              sp--;
              stack[sp - 1] = stack[sp - 1]! < stack[sp]! ? 1n : 0n;
              pc += 1;
              break;
            case Op.le:
              sp--;
              stack[sp - 1] = stack[sp - 1]! <= stack[sp]! ? 1n : 0n;
              pc += 1;
              break;
            case Op.gt:
              sp--;
              stack[sp - 1] = stack[sp - 1]! > stack[sp]! ? 1n : 0n;
              pc += 1;
              break;
            case Op.ge:
              sp--;
              stack[sp - 1] = stack[sp - 1]! >= stack[sp]! ? 1n : 0n;
              pc += 1;
              break;
            case Op.jump:
              pc = code[pc + 1]! | (code[pc + 2]! << 8);
              break;
            case Op.jump_if_false:
              if (stack[--sp] === 0n) pc = code[pc + 1]! | (code[pc + 2]! << 8);
              else pc += 3;
              break;
            case Op.call: {
              const callee = functions[code[pc + 1]! | (code[pc + 2]! << 8)]!;
              const argc = code[pc + 3]!;
              if (depth === MAX_CALL_DEPTH) throw new RuntimeError(`stack overflow in ${fn.name}`, lineAt(fn, pc));
              savedFunction[depth] = fn.index;
              savedPc[depth] = pc + 4;
              savedBp[depth] = bp;
              depth++;
              fn = callee;
              code = fn.code;
              constants = fn.constants;
              pc = 0;
              bp = sp - argc; // the arguments become locals 0…argc-1
              sp = bp + fn.locals;
              if (sp + fn.maxStack > stack.length) stack = grow(stack, sp + fn.maxStack);
              stack.fill(0n, bp + argc, sp);
              break;
            }
            case Op.ret: {
              const result = stack[sp - 1]!;
              if (depth === 1) return result;
              depth--;
              sp = bp; // drop the callee's frame, arguments included…
              stack[sp++] = result; // …and leave the result in their place
              fn = functions[savedFunction[depth]!]!;
              code = fn.code;
              constants = fn.constants;
              pc = savedPc[depth]!;
              bp = savedBp[depth]!;
              break;
            }
            case Op.print:
              print(String(stack[--sp]));
              pc += 1;
              break;
            case Op.print_bool:
              print(stack[--sp] === 0n ? 'false' : 'true');
              pc += 1;
              break;
            default: {
              const handler = handlers[opcode];
              if (handler === undefined) throw new Error(`bad opcode 0x${opcode.toString(16)} at offset ${pc} in ${fn.name} (a compiler bug)`);
              // An opcode of a later chapter: its handler borrows the registers and gives them
              // back, also when it throws (a runtime error is then raised where it left them).
              const state: InterpreterState = { stack, sp, bp, fn, pc, print, depth, callers };
              try {
                handler(state);
              } finally {
                ({ stack, sp, bp, fn, pc, depth } = state);
                code = fn.code;
                constants = fn.constants;
              }
              break;
            }
          }
        }
      } catch (error) {
        if (raise === undefined || !(error instanceof RuntimeError)) throw error;
        const state: RaiseState = {
          stack, sp, bp, fn, pc, depth,
          popFrame() {
            if (state.depth === 1) throw new Error('popFrame: main has no caller');
            state.depth--;
            state.fn = functions[savedFunction[state.depth]!]!;
            state.pc = savedPc[state.depth]! - CORE_OPCODES.size(Op.call); // the saved pc is the one after the call
            state.bp = savedBp[state.depth]!;
          },
        };
        raise(error, state); // returns only when a handler takes the error
        ({ stack, sp, bp, fn, pc, depth } = state);
        code = fn.code;
        constants = fn.constants;
      }
    }
  }
}

/** A larger copy of the stack, with room for at least `needed` values. */
export function grow(stack: BigInt64Array, needed: number): BigInt64Array {
  let size = stack.length;
  while (size < needed) size *= 2;
  const bigger = new BigInt64Array(size);
  bigger.set(stack);
  return bigger;
}
