/**
 * Chapter 06: the compiler from the syntax tree to bytecode.
 *
 * One pass over each function's tree. Compiling an expression emits code that leaves its
 * value on the operand stack and returns the value's type, so type checking falls out of
 * code generation: an operator checks the types its operands returned. Nothing is left to
 * check at run time.
 *
 * One folding is part of the contract (listings depend on it): a unary minus written right
 * before an integer literal becomes one negative constant, `-5` is `const -5`.
 *
 * Variables live in numbered local slots. Parameters take slots 0…n-1 in order; each `let`
 * takes the next free slot, and the slots of a block's variables are free again after the
 * block's `}` (so `locals` is the most slots live at once, not the number of `let`s).
 *
 * The order of work, which fixes which error is reported when there are several:
 *   1. every function's signature, in source order (names, parameter and return types);
 *   2. the `main` function;
 *   3. every function's body, in source order, statements and operands left to right
 *      (operands first, then the operator's own check).
 *
 * Compile errors (`CompileError`, at the node's position, see ast.ts):
 *   function 'f' is already defined                      (at the second name)
 *   'x' is already declared in this scope                (at the parameter or `let`)
 *   unknown type 'T'
 *   'f' has 7 parameters, at most 6 are allowed          (at the function's name)
 *   no function 'main'                                   (at 1:1)
 *   'main' must take no parameters                       (at main's name)
 *   'main' must return int                               (at main's return type)
 *   undefined variable 'x'
 *   undefined function 'f'                               (at the call)
 *   wrong number of arguments to 'f': expected 2, found 3   (at the call)
 *   argument 1 of 'f' must be int, found bool            (at the argument)
 *   '+' needs int operands, found int and bool           (at the operator; all of + - * / % & | ^ << >> >>> < <= > >=)
 *   '&&' needs bool operands, found bool and int         (&& and ||)
 *   '==' needs operands of the same type, found int and bool   (== and !=)
 *   '-' needs an int operand, found bool                 ('-' and '~')
 *   '!' needs a bool operand, found int
 *   condition of 'if' must be bool, found int            (at the condition; also 'while')
 *   cannot assign bool to 'x' of type int                (at the value; `let` and `=`)
 *   return value of 'f' must be int, found bool          (at the value)
 *   too many local variables in 'f' (at most 256)        (at the `let`)
 *   too many constants in 'f' (at most 65536)            (at the literal)
 *   function 'f' is too large (more than 65535 bytes of bytecode)   (at its name)
 */
import type { BinaryOp, Block, Expr, FunctionDecl, Pos, Program, Stmt, TypeNode } from '#ch05/ast.ts';
import { CompileError } from '#ch05/errors.ts';
import { parse } from '#ch05/parser.ts';
import { todo } from '#native/todo.ts';
import { OPCODE_INFO, Op, type CompiledFunction, type CompiledProgram, type LineEntry, type OpName, type ValueType } from './bytecode.ts';

export const MAX_PARAMS = 6;
export const MAX_LOCALS = 256;
export const MAX_CONSTANTS = 65536;
export const MAX_CODE_SIZE = 65535;

/** Parses and compiles a whole program. */
export function compileSource(source: string): CompiledProgram {
  return compile(parse(source));
}

interface Signature {
  readonly index: number;
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly returnType: ValueType;
}

export function compile(program: Program): CompiledProgram {
  const signatures = new Map<string, Signature>();
  for (const decl of program.functions) {
    if (signatures.has(decl.name)) fail(decl.pos, `function '${decl.name}' is already defined`);
    const seen = new Set<string>();
    for (const param of decl.params) {
      if (seen.has(param.name)) fail(param.pos, `'${param.name}' is already declared in this scope`);
      seen.add(param.name);
    }
    const params = decl.params.map((p) => resolveType(p.type));
    const returnType = resolveType(decl.returnType);
    if (params.length > MAX_PARAMS) {
      fail(decl.pos, `'${decl.name}' has ${params.length} parameters, at most ${MAX_PARAMS} are allowed`);
    }
    signatures.set(decl.name, { index: signatures.size, name: decl.name, params, returnType });
  }

  const main = program.functions.find((f) => f.name === 'main');
  if (main === undefined) fail({ line: 1, column: 1 }, `no function 'main'`);
  if (main.params.length > 0) fail(main.pos, `'main' must take no parameters`);
  if (main.returnType !== null && resolveType(main.returnType) !== 'int') fail(main.returnType.pos, `'main' must return int`);

  const functions = program.functions.map((decl) => new FunctionCompiler(decl, signatures).compile());
  return { functions, main: signatures.get('main')!.index };
}

function resolveType(type: TypeNode | null): ValueType {
  if (type === null) return 'int';
  if (type.name === 'int' || type.name === 'bool') return type.name;
  fail(type.pos, `unknown type '${type.name}'`);
}

function fail(pos: Pos, detail: string): never {
  throw new CompileError(pos.line, pos.column, detail);
}

/** Binary operators and the opcodes that compute them. */
export const ARITHMETIC: Partial<Record<BinaryOp, OpName>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod',
  '&': 'bit_and', '|': 'bit_or', '^': 'bit_xor', '<<': 'shl', '>>': 'sar', '>>>': 'shr',
};
export const ORDERING: Partial<Record<BinaryOp, OpName>> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
export const EQUALITY: Partial<Record<BinaryOp, OpName>> = { '==': 'eq', '!=': 'ne' };

interface Local {
  readonly slot: number;
  readonly type: ValueType;
}

class FunctionCompiler {
  readonly #decl: FunctionDecl;
  readonly #signatures: ReadonlyMap<string, Signature>;
  readonly #signature: Signature;
  readonly #code: number[] = [];
  readonly #constants: bigint[] = [];
  readonly #constantIndex = new Map<bigint, number>();
  readonly #lines: LineEntry[] = [];
  /** Innermost scope last; each maps a name to its slot and type. */
  readonly #scopes: Map<string, Local>[] = [];
  #nextSlot = 0;
  #maxSlots = 0;
  #depth = 0;
  #maxDepth = 0;

  constructor(decl: FunctionDecl, signatures: ReadonlyMap<string, Signature>) {
    this.#decl = decl;
    this.#signatures = signatures;
    this.#signature = signatures.get(decl.name)!;
  }

  compile(): CompiledFunction {
    const decl = this.#decl;
    this.#scopes.push(new Map());
    decl.params.forEach((param, i) => this.#declare(param.name, this.#signature.params[i]!, param.pos));
    this.#block(decl.body);
    // Falling off the end returns 0 (false for a bool function), unless the last statement returns anyway.
    const last = decl.body.statements.at(-1);
    if (last?.kind !== 'return') {
      this.#emitConstant(0n, decl.body.end);
      this.#emit(decl.body.end, 'ret');
    }
    if (this.#code.length > MAX_CODE_SIZE) {
      fail(decl.pos, `function '${decl.name}' is too large (more than ${MAX_CODE_SIZE} bytes of bytecode)`);
    }
    return {
      name: decl.name,
      index: this.#signature.index,
      params: this.#signature.params,
      returnType: this.#signature.returnType,
      locals: this.#maxSlots,
      maxStack: this.#maxDepth,
      code: Uint8Array.from(this.#code),
      constants: this.#constants,
      lines: this.#lines,
      line: decl.pos.line,
    };
  }

  // ── emitting ───────────────────────────────────────────────────────────────────────

  /**
   * Appends one instruction, records its line if the line changed, and tracks the
   * operand stack's depth. Returns the offset of the instruction.
   */
  #emit(pos: Pos, name: OpName, ...operands: number[]): number {
    const offset = this.#code.length;
    if (this.#lines.at(-1)?.line !== pos.line) this.#lines.push({ offset, line: pos.line });
    const info = OPCODE_INFO[name];
    this.#code.push(Op[name]);
    info.operands.forEach((kind, i) => {
      const value = operands[i]!;
      if (kind === 'u8') this.#code.push(value & 0xff);
      else this.#code.push(value & 0xff, (value >> 8) & 0xff);
    });
    const pops = name === 'call' ? operands[1]! : info.pops;
    this.#depth += info.pushes - pops;
    this.#maxDepth = Math.max(this.#maxDepth, this.#depth);
    return offset;
  }

  /** Emits a jump whose target is not known yet; returns the offset to give `#patch`. */
  #emitJump(pos: Pos, name: 'jump' | 'jump_if_false'): number {
    return this.#emit(pos, name, 0);
  }

  /** Points the jump at `at` to the current end of the code. */
  #patch(at: number): void {
    const target = this.#code.length;
    this.#code[at + 1] = target & 0xff;
    this.#code[at + 2] = (target >> 8) & 0xff;
  }

  #emitConstant(value: bigint, pos: Pos): void {
    let index = this.#constantIndex.get(value);
    if (index === undefined) {
      index = this.#constants.length;
      if (index >= MAX_CONSTANTS) fail(pos, `too many constants in '${this.#decl.name}' (at most ${MAX_CONSTANTS})`);
      this.#constants.push(value);
      this.#constantIndex.set(value, index);
    }
    this.#emit(pos, 'const', index);
  }

  // ── scopes ─────────────────────────────────────────────────────────────────────────

  #declare(name: string, type: ValueType, pos: Pos): number {
    const scope = this.#scopes.at(-1)!;
    if (scope.has(name)) fail(pos, `'${name}' is already declared in this scope`);
    const slot = this.#nextSlot;
    if (slot >= MAX_LOCALS) fail(pos, `too many local variables in '${this.#decl.name}' (at most ${MAX_LOCALS})`);
    scope.set(name, { slot, type });
    this.#nextSlot++;
    this.#maxSlots = Math.max(this.#maxSlots, this.#nextSlot);
    return slot;
  }

  #lookup(name: string, pos: Pos): Local {
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const local = this.#scopes[i]!.get(name);
      if (local !== undefined) return local;
    }
    fail(pos, `undefined variable '${name}'`);
  }

  // ── statements ─────────────────────────────────────────────────────────────────────

  #block(block: Block): void {
    this.#scopes.push(new Map());
    const saved = this.#nextSlot;
    for (const stmt of block.statements) this.#statement(stmt);
    this.#nextSlot = saved;
    this.#scopes.pop();
  }

  #statement(stmt: Stmt): void {
    // TODO: by stmt.kind (the errors are listed at the top of this file):
    //   block   this.#block(stmt)
    //   let     value; check it against the declared type if there is one; declare; store slot
    //   assign  value; look the variable up; check the type; store slot (the `=`'s position)
    //   if      this.#condition; jump_if_false to else/end; then-block; [jump to end; else-block]
    //   while   top: condition; jump_if_false to end; body; jump top (at body.end); end:
    //   return  value; check against this.#signature.returnType; ret
    //   print   value; print or print_bool by its type
    //   expr    value; pop
    return todo('compiler: statements');
  }

  #condition(cond: Expr, keyword: 'if' | 'while'): void {
    const type = this.#expr(cond);
    if (type !== 'bool') fail(cond.pos, `condition of '${keyword}' must be bool, found ${type}`);
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  /** Emits code that pushes the value of `expr`; returns its type. */
  #expr(expr: Expr): ValueType {
    // TODO: emit code that pushes the value; return its type.
    //   int / bool  a constant (true is 1n, false 0n)          name  load its slot
    //   unary       `-` right before an int literal is one constant of the negated value;
    //               otherwise operand, check its type, then neg / not / bit_not
    //   binary      a chain `a + b + c + …` nests to the left as deep as it is long, so do
    //               not recurse down the left operands: loop down to the leftmost operand,
    //               compile it, then from the inside out call this.#logical for && and ||,
    //               this.#binary for the rest, each with the type of what it applies to
    //   call        this.#call
    return todo('compiler: expressions');
  }

  /** The left operand is compiled already (its type is `a`): the right one, then the operator. */
  #binary(op: BinaryOp, a: ValueType, right: Expr, pos: Pos): ValueType {
    // TODO: right, then check types and emit the opcode from EQUALITY (same types, result
    // bool), ORDERING (ints, result bool) or ARITHMETIC (ints, result int).
    return todo('compiler: binary operators');
  }

  /**
   * `a && b` and `a || b` evaluate `b` only when they must:
   *
   *   a && b:   a; jump_if_false F; b; jump E; F: const false; E:
   *   a || b:   a; jump_if_false R; const true; jump E; R: b; E:
   */
  #logical(op: '&&' | '||', a: ValueType, right: Expr, pos: Pos): ValueType {
    // TODO: the shapes above, from the jump_if_false on (`a` is compiled already, its type is `a`). Both paths push one value, so after the unconditional jump set
    // this.#depth back to what it was before the first path pushed its value. Check the
    // types (both bool) after compiling both operands.
    return todo('compiler: && and ||');
  }

  #call(name: string, args: readonly Expr[], pos: Pos): ValueType {
    // TODO: look up the signature, check the argument count, compile and check each argument
    // left to right, then emit call with the function's index and the argument count.
    return todo('compiler: calls');
  }
}
