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
 * The types are not lost: every call gets a stack map (bytecode.ts), the types of the
 * locals live after it and of the operand stack under its arguments.
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
 *   too many functions (at most 65536)                   (at the name of the 65537th)
 *   too many local variables in 'f' (at most 256)        (at the `let`)
 *   too many constants in 'f' (at most 65536)            (at the literal)
 *   function 'f' is too large (more than 65535 bytes of bytecode)   (at its name)
 */
import type { BinaryExpr, BinaryOp, Block, Expr, FunctionDecl, Pos, Program, Stmt, TypeNode } from '#ch05/ast.ts';
import { CompileError } from '#ch05/errors.ts';
import { parse } from '#ch05/parser.ts';
import { CORE_OPCODES, OPCODE_INFO, Op, type CompiledFunction, type CompiledProgram, type LineEntry, type OpName, type OpcodeSet, type StackMap, type ValueType } from './bytecode.ts';

export const MAX_PARAMS = 6;
/** A call names its function in a u16. */
export const MAX_FUNCTIONS = 65536;
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

// @book:start compile
export function compile(program: Program): CompiledProgram {
  const signatures = new Map<string, Signature>();
  for (const decl of program.functions) {
    if (signatures.has(decl.name)) fail(decl.pos, `function '${decl.name}' is already defined`);
    if (signatures.size === MAX_FUNCTIONS) fail(decl.pos, `too many functions (at most ${MAX_FUNCTIONS})`);
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
// @book:end compile

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
  /** The types of the values on the operand stack that an operator or a call will still consume. */
  readonly #pending: ValueType[] = [];
  /** At each call: every local in scope, by slot, and the operand stack under the arguments. */
  readonly #calls: StackMap[] = [];

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
      stackMaps: this.#stackMaps(),
    };
  }

  // @book:start stack-maps
  /** The maps of the calls, each keeping only the locals that are live after its call. */
  #stackMaps(): Map<number, StackMap> {
    if (this.#calls.length === 0) return new Map();
    const live = liveLocalsAtCalls(this.#code);
    return new Map(this.#calls.map((map) => {
      const after = live.get(map.offset)!;
      return [map.offset, { ...map, locals: map.locals.filter((local) => after.has(local.slot)) }];
    }));
  }

  /** Records the types at the call about to be emitted, which takes `argc` arguments. */
  #recordCall(argc: number): void {
    const locals = new Map<number, ValueType>();
    for (const scope of this.#scopes) for (const local of scope.values()) locals.set(local.slot, local.type);
    this.#calls.push({
      offset: this.#code.length,
      locals: [...locals].sort(([a], [b]) => a - b).map(([slot, type]) => ({ slot, type })),
      stack: this.#pending.slice(0, this.#pending.length - argc),
    });
  }
  // @book:end stack-maps

  // ── emitting ───────────────────────────────────────────────────────────────────────

  // @book:start emit
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
  // @book:end emit

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

  // @book:start statement
  #statement(stmt: Stmt): void {
    switch (stmt.kind) {
      case 'block':
        return this.#block(stmt);
      case 'let': {
        const type = this.#expr(stmt.init);
        const declared = stmt.type === null ? type : resolveType(stmt.type);
        if (type !== declared) fail(stmt.init.pos, `cannot assign ${type} to '${stmt.name}' of type ${declared}`);
        const slot = this.#declare(stmt.name, declared, stmt.pos);
        this.#emit(stmt.pos, 'store', slot);
        return;
      }
      case 'assign': {
        const type = this.#expr(stmt.value);
        const local = this.#lookup(stmt.target.name, stmt.target.pos);
        if (type !== local.type) fail(stmt.value.pos, `cannot assign ${type} to '${stmt.target.name}' of type ${local.type}`);
        this.#emit(stmt.pos, 'store', local.slot);
        return;
      }
      case 'if': {
        this.#condition(stmt.cond, 'if');
        const toElse = this.#emitJump(stmt.pos, 'jump_if_false');
        this.#block(stmt.then);
        if (stmt.otherwise === null) {
          this.#patch(toElse);
          return;
        }
        const toEnd = this.#emitJump(stmt.otherwise.pos, 'jump');
        this.#patch(toElse);
        this.#block(stmt.otherwise);
        this.#patch(toEnd);
        return;
      }
      case 'while': {
        const top = this.#code.length;
        this.#condition(stmt.cond, 'while');
        const toEnd = this.#emitJump(stmt.pos, 'jump_if_false');
        this.#block(stmt.body);
        this.#emit(stmt.body.end, 'jump', top);
        this.#patch(toEnd);
        return;
      }
      case 'return': {
        const type = this.#expr(stmt.value);
        const expected = this.#signature.returnType;
        if (type !== expected) fail(stmt.value.pos, `return value of '${this.#decl.name}' must be ${expected}, found ${type}`);
        this.#emit(stmt.pos, 'ret');
        return;
      }
      case 'print': {
        const type = this.#expr(stmt.value);
        this.#emit(stmt.pos, type === 'bool' ? 'print_bool' : 'print');
        return;
      }
      case 'expr':
        this.#expr(stmt.expr);
        this.#emit(stmt.pos, 'pop');
        return;
    }
  }
  // @book:end statement

  #condition(cond: Expr, keyword: 'if' | 'while'): void {
    const type = this.#expr(cond);
    if (type !== 'bool') fail(cond.pos, `condition of '${keyword}' must be bool, found ${type}`);
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  // @book:start expr
  /** Emits code that pushes the value of `expr`; returns its type. */
  #expr(expr: Expr): ValueType {
    switch (expr.kind) {
      case 'int':
        this.#emitConstant(expr.value, expr.pos);
        return 'int';
      case 'bool':
        this.#emitConstant(expr.value ? 1n : 0n, expr.pos);
        return 'bool';
      case 'name': {
        const local = this.#lookup(expr.name, expr.pos);
        this.#emit(expr.pos, 'load', local.slot);
        return local.type;
      }
      case 'unary': {
        if (expr.op === '-' && expr.operand.kind === 'int') {
          // A minus written right before a literal is part of the constant: `-5` is `const -5`.
          this.#emitConstant(BigInt.asIntN(64, -expr.operand.value), expr.pos);
          return 'int';
        }
        const type = this.#expr(expr.operand);
        const wanted: ValueType = expr.op === '!' ? 'bool' : 'int';
        if (type !== wanted) fail(expr.pos, `'${expr.op}' needs ${wanted === 'int' ? 'an int' : 'a bool'} operand, found ${type}`);
        this.#emit(expr.pos, expr.op === '-' ? 'neg' : expr.op === '!' ? 'not' : 'bit_not');
        return wanted;
      }
      case 'binary': {
        // A long chain `a + b + c + …` nests to the left as deep as it is long: walk down its
        // left operands in a loop (not by recursion, which a chain of 20000 terms would
        // overflow), compile the leftmost operand, then apply the operators from the inside out.
        const chain: BinaryExpr[] = [];
        let leftmost: Expr = expr;
        while (leftmost.kind === 'binary') {
          chain.push(leftmost);
          leftmost = leftmost.left;
        }
        let type = this.#expr(leftmost);
        for (let i = chain.length - 1; i >= 0; i--) {
          const node = chain[i]!;
          type = node.op === '&&' || node.op === '||'
            ? this.#logical(node.op, type, node.right, node.pos)
            : this.#binary(node.op, type, node.right, node.pos);
        }
        return type;
      }
      case 'call':
        return this.#call(expr.callee, expr.args, expr.pos);
    }
  }
  // @book:end expr

  /** The left operand is compiled already (its type is `a`): the right one, then the operator. */
  #binary(op: BinaryOp, a: ValueType, right: Expr, pos: Pos): ValueType {
    this.#pending.push(a);
    const b = this.#expr(right);
    this.#pending.pop();
    const equality = EQUALITY[op];
    if (equality !== undefined) {
      if (a !== b) fail(pos, `'${op}' needs operands of the same type, found ${a} and ${b}`);
      this.#emit(pos, equality);
      return 'bool';
    }
    if (a !== 'int' || b !== 'int') fail(pos, `'${op}' needs int operands, found ${a} and ${b}`);
    const ordering = ORDERING[op];
    if (ordering !== undefined) {
      this.#emit(pos, ordering);
      return 'bool';
    }
    this.#emit(pos, ARITHMETIC[op]!);
    return 'int';
  }

  // @book:start logical
  /**
   * `a && b` and `a || b` evaluate `b` only when they must:
   *
   *   a && b:   a; jump_if_false F; b; jump E; F: const false; E:
   *   a || b:   a; jump_if_false R; const true; jump E; R: b; E:
   *
   * `a` is compiled already (see #expr); its type is `a`.
   */
  #logical(op: '&&' | '||', a: ValueType, right: Expr, pos: Pos): ValueType {
    const toSecond = this.#emitJump(pos, 'jump_if_false');
    const depth = this.#depth; // each path below pushes one value; count it once
    let b: ValueType;
    if (op === '&&') {
      b = this.#expr(right); //            a was true: the answer is b
      const toEnd = this.#emitJump(pos, 'jump');
      this.#depth = depth;
      this.#patch(toSecond);
      this.#emitConstant(0n, pos); //      a was false: the answer is false
      this.#patch(toEnd);
    } else {
      this.#emitConstant(1n, pos); //      a was true: the answer is true
      const toEnd = this.#emitJump(pos, 'jump');
      this.#depth = depth;
      this.#patch(toSecond);
      b = this.#expr(right); //            a was false: the answer is b
      this.#patch(toEnd);
    }
    if (a !== 'bool' || b !== 'bool') fail(pos, `'${op}' needs bool operands, found ${a} and ${b}`);
    return 'bool';
  }
  // @book:end logical

  // @book:start call
  #call(name: string, args: readonly Expr[], pos: Pos): ValueType {
    const callee = this.#signatures.get(name);
    if (callee === undefined) fail(pos, `undefined function '${name}'`);
    if (args.length !== callee.params.length) {
      fail(pos, `wrong number of arguments to '${name}': expected ${callee.params.length}, found ${args.length}`);
    }
    args.forEach((arg, i) => {
      const type = this.#expr(arg);
      const wanted = callee.params[i]!;
      if (type !== wanted) fail(arg.pos, `argument ${i + 1} of '${name}' must be ${wanted}, found ${type}`);
      this.#pending.push(type);
    });
    this.#recordCall(args.length);
    this.#pending.length -= args.length;
    this.#emit(pos, 'call', callee.index, args.length);
    return callee.returnType;
  }
  // @book:end call
}

/**
 * For each `call` in `code`, the local slots live right after it: read on some path before
 * they are written. A backward dataflow over the instructions, repeated until nothing changes:
 *
 *   live-in(i) = reads(i) ∪ (live-out(i) − writes(i))      live-out(i) = ∪ live-in(successors of i)
 */
export function liveLocalsAtCalls(code: readonly number[] | Uint8Array, opcodes: OpcodeSet = CORE_OPCODES): Map<number, Set<number>> {
  const target = (pc: number) => code[pc + 1]! | (code[pc + 2]! << 8);
  const starts: number[] = [];
  for (let pc = 0; pc < code.length; pc += opcodes.size(code[pc]!)) starts.push(pc);
  const index = new Map(starts.map((pc, i) => [pc, i]));
  const successors = starts.map((pc, i): number[] => {
    const op = code[pc]!;
    const next = i + 1 < starts.length ? [i + 1] : [];
    if (op === Op.ret) return [];
    if (op === Op.jump) return [index.get(target(pc))!];
    if (op === Op.jump_if_false) return [...next, index.get(target(pc))!];
    return next;
  });
  const liveIn = starts.map(() => new Set<number>());
  const liveOut = starts.map(() => new Set<number>());
  for (let changed = true; changed;) {
    changed = false;
    for (let i = starts.length - 1; i >= 0; i--) {
      const out = new Set<number>();
      for (const s of successors[i]!) for (const slot of liveIn[s]!) out.add(slot);
      const pc = starts[i]!;
      const input = new Set(out);
      if (code[pc] === Op.store) input.delete(code[pc + 1]!);
      if (code[pc] === Op.load) input.add(code[pc + 1]!);
      if (input.size !== liveIn[i]!.size) changed = true;
      liveIn[i] = input;
      liveOut[i] = out;
    }
  }
  const result = new Map<number, Set<number>>();
  starts.forEach((pc, i) => {
    if (code[pc] === Op.call) result.set(pc, liveOut[i]!);
  });
  return result;
}
