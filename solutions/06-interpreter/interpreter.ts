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
import { Op, lineAt, type CompiledFunction, type CompiledProgram } from './bytecode.ts';

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

  // @book:start run
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
        // @book:start div
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
        // @book:end div
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
        // @book:start control
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
        // @book:end control
        case Op.print:
          print(String(stack[--sp]));
          pc += 1;
          break;
        case Op.print_bool:
          print(stack[--sp] === 0n ? 'false' : 'true');
          pc += 1;
          break;
        default:
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
