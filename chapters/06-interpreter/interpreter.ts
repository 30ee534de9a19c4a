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
 */
import { OPCODES, Op, lineAt, type CompiledFunction, type CompiledProgram } from './bytecode.ts';
import { todo } from '#native/todo.ts';

/** Active calls allowed at once, `main` included. The call that would make one more fails. */
export const MAX_CALL_DEPTH = 10_000;

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

export interface RunOptions {
  /** Receives each printed line, without its newline. Default: `console.log`. */
  readonly print?: (text: string) => void;
}

/** Runs `main` of a compiled program; returns its result. Throws `RuntimeError`. */
export function run(program: CompiledProgram, options: RunOptions = {}): bigint {
  return new Interpreter(program, options.print ?? ((text) => console.log(text))).run();
}

class Interpreter {
  readonly #functions: readonly CompiledFunction[];
  readonly #main: number;
  readonly #print: (text: string) => void;

  constructor(program: CompiledProgram, print: (text: string) => void) {
    this.#functions = program.functions;
    this.#main = program.main;
    this.#print = print;
  }

  run(): bigint {
    const functions = this.#functions;
    const print = this.#print;
    let stack: BigInt64Array = new BigInt64Array(4096);

    // The saved state of each caller: which function, where to continue, its base pointer.
    const savedFunction = new Int32Array(MAX_CALL_DEPTH);
    const savedPc = new Int32Array(MAX_CALL_DEPTH);
    const savedBp = new Int32Array(MAX_CALL_DEPTH);
    let depth = 1; // active calls, main included

    // The registers of the machine: the running function and its code, pc, bp and sp.
    let fn = functions[this.#main]!;
    let code = fn.code;
    let constants = fn.constants;
    let pc = 0;
    let bp = 0;
    let sp = fn.locals; // main's locals are slots 0…locals-1, all zero
    if (bp + fn.locals + fn.maxStack > stack.length) stack = grow(stack, bp + fn.locals + fn.maxStack);

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
        // TODO: every other opcode. See bytecode.ts for what each does, and the comment at
        // the top of this file for the frame layout of `call` and `ret`. Errors:
        //   div, mod:  new RuntimeError('division by zero', lineAt(fn, pc))
        //   call:      when depth is already MAX_CALL_DEPTH,
        //              new RuntimeError(`stack overflow in ${fn.name}`, lineAt(fn, pc))
        // When a frame needs more room than the stack has: stack = grow(stack, needed).
        // A callee's locals beyond its arguments start at 0 (the slots may hold a value
        // left by an earlier call: clear them).
        // (The arrays savedFunction, savedPc and savedBp hold each caller's state.)
        default:
          if (OPCODES[opcode] !== undefined) {
            void [depth, savedFunction, savedPc, savedBp, print, functions];
            todo(`interpreter: opcode ${OPCODES[opcode]!.name}`);
          }
          throw new Error(`bad opcode 0x${opcode.toString(16)} at offset ${pc} in ${fn.name} (a compiler bug)`);
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
