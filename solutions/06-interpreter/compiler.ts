/**
 * Chapter 06: the compiler from the syntax tree to bytecode.
 *
 * Two passes over each function's tree: the type checker (checker.ts) settles the type of
 * every expression and the slot of every variable, then the bytecode compiler here emits
 * code that leaves each expression's value on the operand stack. Nothing is left to check
 * at run time.
 *
 * One folding is part of the contract (listings depend on it): a unary minus written right
 * before an integer literal becomes one negative constant, `-5` is `const -5`.
 *
 * The types are not lost: every call gets a stack map (bytecode.ts), the types of the
 * locals live after it and of the operand stack under its arguments.
 *
 * A later chapter compiles its own node kinds through a `Language` (language.ts): emit rules
 * by kind, with the opcodes they use, beside the type rules of checker.ts.
 *
 * The order of work, which fixes which error is reported when there are several:
 *   1. every function's signature, in source order (names, parameter and return types);
 *   2. the `main` function;
 *   3. every function's body, in source order, statements and operands left to right
 *      (operands first, then the operator's own check); each is checked, then compiled.
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
import type { Block, Expr, FunctionDecl, Pos, Program, Stmt } from '#ch05/ast.ts';
import { parse } from '#ch05/parser.ts';
import { CORE_GRAMMAR, type Grammar } from '#ch05/grammar.ts';
import { CORE_OPCODES, Op, type CompiledFunction, type CompiledProgram, type LineEntry, type OpcodeSet, type StackMap, type ValueType } from './bytecode.ts';
import {
  ARITHMETIC, CORE_TYPE_RULES, EQUALITY, FunctionChecker, MAX_FUNCTIONS, MAX_PARAMS, ORDERING, fail, resolveType,
  type FunctionTypes, type Signature, type TypeRules,
} from './checker.ts';

export { ARITHMETIC, EQUALITY, MAX_FUNCTIONS, MAX_LOCALS, MAX_PARAMS, ORDERING } from './checker.ts';
export const MAX_CONSTANTS = 65536;
export const MAX_CODE_SIZE = 65535;

// @book:start emit-rules
/** How a later chapter's statement kind is compiled. */
export type StatementEmitter = (compiler: FunctionCompiler, stmt: Stmt) => void;
/** How a later chapter's expression kind is compiled: code that pushes its one value. */
export type ExprEmitter = (compiler: FunctionCompiler, expr: Expr) => void;

/** Emit rules by node kind, consulted before the core ones (so they may replace one). */
export interface EmitRules {
  readonly statements: ReadonlyMap<string, StatementEmitter>;
  readonly expressions: ReadonlyMap<string, ExprEmitter>;
}

export const CORE_EMIT_RULES: EmitRules = Object.freeze({ statements: new Map(), expressions: new Map() });

/** New rules: `base`'s with `added`'s, an entry of `added` winning. `base` is not changed. */
export function extendEmitRules(base: EmitRules, added: Partial<EmitRules>): EmitRules {
  return Object.freeze({
    statements: new Map([...base.statements, ...(added.statements ?? [])]),
    expressions: new Map([...base.expressions, ...(added.expressions ?? [])]),
  });
}

/**
 * A later chapter's last word on each compiled function: the function as it is, or a copy
 * with more fields (chapter 10 adds the handler table its emit rules recorded).
 */
export type FinishRule = (compiler: FunctionCompiler, fn: CompiledFunction) => CompiledFunction;

/**
 * A later chapter's first word on a program, before anything is checked: the level to
 * compile this program with (chapter 11 adds the rules of the record types it declares).
 */
export type PrepareRule = (program: Program, level: FrontEnd) => FrontEnd;

/** What the front end of one language level is made of; see language.ts for the whole level. */
export interface FrontEnd {
  readonly grammar: Grammar;
  readonly types: TypeRules;
  readonly emit: EmitRules;
  readonly opcodes: OpcodeSet;
  readonly finish?: FinishRule;
  readonly prepare?: PrepareRule;
}

export const CORE_FRONT_END: FrontEnd = Object.freeze({ grammar: CORE_GRAMMAR, types: CORE_TYPE_RULES, emit: CORE_EMIT_RULES, opcodes: CORE_OPCODES });
// @book:end emit-rules

/** Parses and compiles a whole program. */
export function compileSource(source: string, level: FrontEnd = CORE_FRONT_END): CompiledProgram {
  return compile(parse(source, level.grammar), level);
}

// @book:start compile
export function compile(program: Program, base: FrontEnd = CORE_FRONT_END): CompiledProgram {
  const level = base.prepare === undefined ? base : base.prepare(program, base);
  const signatures = new Map<string, Signature>();
  for (const decl of program.functions) {
    if (signatures.has(decl.name)) fail(decl.pos, `function '${decl.name}' is already defined`);
    if (signatures.size === MAX_FUNCTIONS) fail(decl.pos, `too many functions (at most ${MAX_FUNCTIONS})`);
    const seen = new Set<string>();
    for (const param of decl.params) {
      if (seen.has(param.name)) fail(param.pos, `'${param.name}' is already declared in this scope`);
      seen.add(param.name);
    }
    const params = decl.params.map((p) => resolveType(p.type, level.types));
    const returnType = resolveType(decl.returnType, level.types);
    if (params.length > MAX_PARAMS) {
      fail(decl.pos, `'${decl.name}' has ${params.length} parameters, at most ${MAX_PARAMS} are allowed`);
    }
    signatures.set(decl.name, { index: signatures.size, name: decl.name, params, returnType });
  }

  const main = program.functions.find((f) => f.name === 'main');
  if (main === undefined) fail({ line: 1, column: 1 }, `no function 'main'`);
  if (main.params.length > 0) fail(main.pos, `'main' must take no parameters`);
  if (main.returnType !== null && resolveType(main.returnType, level.types) !== 'int') fail(main.returnType.pos, `'main' must return int`);

  const functions = program.functions.map((decl) => {
    const types = new FunctionChecker(decl, signatures, level.types).check();
    return new FunctionCompiler(decl, types, signatures, level).compile();
  });
  return { functions, main: signatures.get('main')!.index };
}
// @book:end compile

/**
 * Compiles one checked function to bytecode. Its public methods are what a later chapter's
 * emit rules use: `expr`, `statement`, `block`, `emit`, `emitJump`, `patch`, `here`,
 * `emitConstant`, `types`, `pending`.
 */
export class FunctionCompiler {
  readonly decl: FunctionDecl;
  /** What the checker found: the type of each expression, the slot of each variable. */
  readonly types: FunctionTypes;
  readonly #signatures: ReadonlyMap<string, Signature>;
  readonly #level: FrontEnd;
  readonly #code: number[] = [];
  readonly #constants: bigint[] = [];
  readonly #constantIndex = new Map<bigint, number>();
  readonly #lines: LineEntry[] = [];
  #depth = 0;
  #maxDepth = 0;
  /**
   * The types of the values on the operand stack that an operator or a call will still
   * consume, the bottom first: push a value's type here while code for another operand runs.
   */
  readonly pending: ValueType[] = [];
  /** At each call: the locals in scope and the operand stack under the arguments. */
  readonly #calls: StackMap[] = [];
  /** Where instructions may continue besides where their opcodes go (see `addEdges`). */
  readonly #edges: { readonly start: number; readonly end: number; readonly target: number }[] = [];

  constructor(decl: FunctionDecl, types: FunctionTypes, signatures: ReadonlyMap<string, Signature>, level: FrontEnd = CORE_FRONT_END) {
    this.decl = decl;
    this.types = types;
    this.#signatures = signatures;
    this.#level = level;
  }

  compile(): CompiledFunction {
    const decl = this.decl;
    this.block(decl.body);
    // Falling off the end returns 0 (false for a bool function), unless the last statement returns anyway.
    const last = decl.body.statements.at(-1);
    if (last?.kind !== 'return') {
      this.emitConstant(0n, decl.body.end);
      this.emit(decl.body.end, 'ret');
    }
    if (this.#code.length > MAX_CODE_SIZE) {
      fail(decl.pos, `function '${decl.name}' is too large (more than ${MAX_CODE_SIZE} bytes of bytecode)`);
    }
    const signature = this.types.signature;
    const fn: CompiledFunction = {
      name: decl.name,
      index: signature.index,
      params: signature.params,
      returnType: signature.returnType,
      locals: this.types.locals,
      maxStack: this.#maxDepth,
      code: Uint8Array.from(this.#code),
      constants: this.#constants,
      lines: this.#lines,
      line: decl.pos.line,
      stackMaps: this.#stackMaps(),
    };
    return this.#level.finish === undefined ? fn : this.#level.finish(this, fn);
  }

  // ── emitting ───────────────────────────────────────────────────────────────────────

  /** The offset the next instruction will have. */
  get here(): number {
    return this.#code.length;
  }

  // @book:start emit
  /**
   * Appends one instruction, records its line if the line changed, and tracks the
   * operand stack's depth. Returns the offset of the instruction. `name` is an opcode of
   * the level's set, so a later chapter emits its own opcodes the same way.
   */
  emit(pos: Pos, name: string, ...operands: number[]): number {
    const info = this.#level.opcodes.byName.get(name);
    if (info === undefined) throw new Error(`no opcode named '${name}' in this language level`);
    const offset = this.#code.length;
    if (this.#lines.at(-1)?.line !== pos.line) this.#lines.push({ offset, line: pos.line });
    this.#code.push(info.code);
    info.operands.forEach((kind, i) => {
      const value = operands[i]!;
      const limit = kind === 'u8' ? 0xff : 0xffff;
      if (!Number.isInteger(value) || value < 0 || value > limit) {
        throw new Error(`operand ${i + 1} of ${name} is ${value}, which does not fit a ${kind} (the limits are checked before emitting)`);
      }
      if (kind === 'u8') this.#code.push(value);
      else this.#code.push(value & 0xff, value >> 8);
    });
    const pops = name === 'call' ? operands[1]! : info.pops;
    this.#depth += info.pushes - pops;
    this.#maxDepth = Math.max(this.#maxDepth, this.#depth);
    return offset;
  }

  /** Emits a jump whose target is not known yet; returns the offset to give `patch`. */
  emitJump(pos: Pos, name: string): number {
    return this.emit(pos, name, 0);
  }

  /** Points the jump at `at` (its u16 operand right after the opcode) to the current end of the code. */
  patch(at: number): void {
    const target = this.#code.length;
    this.#code[at + 1] = target & 0xff;
    this.#code[at + 2] = (target >> 8) & 0xff;
  }

  emitConstant(value: bigint, pos: Pos): void {
    let index = this.#constantIndex.get(value);
    if (index === undefined) {
      index = this.#constants.length;
      if (index >= MAX_CONSTANTS) fail(pos, `too many constants in '${this.decl.name}' (at most ${MAX_CONSTANTS})`);
      this.#constants.push(value);
      this.#constantIndex.set(value, index);
    }
    this.emit(pos, 'const', index);
  }
  // @book:end emit

  /** The operand stack's depth now; a rule whose code has two paths sets it back for the second. */
  get depth(): number {
    return this.#depth;
  }

  set depth(value: number) {
    this.#depth = value;
  }

  // @book:start stack-maps
  /** The maps of the calls, each keeping only the locals that are live after its call. */
  #stackMaps(): Map<number, StackMap> {
    if (this.#calls.length === 0) return new Map();
    const edges = this.#edges;
    const more = (pc: number) => edges.filter((e) => e.start <= pc && pc < e.end).map((e) => e.target);
    const live = liveLocalsAtCalls(this.#code, this.#level.opcodes, edges.length === 0 ? undefined : more);
    return new Map(this.#calls.map((map) => {
      const after = live.get(map.offset)!;
      return [map.offset, { ...map, locals: map.locals.filter((local) => after.has(local.slot)) }];
    }));
  }

  /**
   * Records that any instruction in [start, end) may continue at `target` besides where its
   * opcode goes (a later chapter's exception handler), so that a stack map counts the locals
   * read from `target` on as live at the calls in the range.
   */
  addEdges(start: number, end: number, target: number): void {
    this.#edges.push({ start, end, target });
  }

  /** Records the types at the call `node` about to be emitted, which takes `argc` arguments. */
  recordCall(node: object, argc: number): void {
    this.#calls.push({
      offset: this.#code.length,
      locals: this.types.scopeAt(node).map(({ slot, type }) => ({ slot, type })),
      stack: this.pending.slice(0, this.pending.length - argc),
    });
  }
  // @book:end stack-maps

  // ── statements ─────────────────────────────────────────────────────────────────────

  block(block: Block): void {
    for (const stmt of block.statements) this.statement(stmt);
  }

  statement(stmt: Stmt): void {
    const rule = this.#level.emit.statements.get(stmt.kind);
    if (rule !== undefined) rule(this, stmt);
    else this.coreStatement(stmt);
  }

  /** Code for the core statements. The checker has checked them: nothing here can fail. */
  coreStatement(stmt: Stmt): void {
    switch (stmt.kind) {
      case 'block':
        return this.block(stmt);
      case 'let':
        this.expr(stmt.init);
        this.emit(stmt.pos, 'store', this.types.localOf(stmt).slot);
        return;
      case 'assign':
        this.expr(stmt.value);
        this.emit(stmt.pos, 'store', this.types.localOf(stmt).slot);
        return;
      case 'if': {
        this.expr(stmt.cond);
        const toElse = this.emitJump(stmt.pos, 'jump_if_false');
        this.block(stmt.then);
        if (stmt.otherwise === null) {
          this.patch(toElse);
          return;
        }
        const toEnd = this.emitJump(stmt.otherwise.pos, 'jump');
        this.patch(toElse);
        this.block(stmt.otherwise);
        this.patch(toEnd);
        return;
      }
      case 'while': {
        const top = this.here;
        this.expr(stmt.cond);
        const toEnd = this.emitJump(stmt.pos, 'jump_if_false');
        this.block(stmt.body);
        this.emit(stmt.body.end, 'jump', top);
        this.patch(toEnd);
        return;
      }
      case 'return':
        this.expr(stmt.value);
        this.emit(stmt.pos, 'ret');
        return;
      case 'print':
        this.expr(stmt.value);
        this.emit(stmt.pos, this.types.typeOf(stmt.value) === 'bool' ? 'print_bool' : 'print');
        return;
      case 'expr':
        this.expr(stmt.expr);
        this.emit(stmt.pos, 'pop');
        return;
      default:
        throw new Error(`no emit rule for the statement kind '${(stmt as Stmt).kind}'`);
    }
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  /** Emits code that pushes the value of `expr`. */
  expr(expr: Expr): void {
    const rule = this.#level.emit.expressions.get(expr.kind);
    if (rule !== undefined) rule(this, expr);
    else this.coreExpr(expr);
  }

  /** Code for the core expressions. */
  coreExpr(expr: Expr): void {
    switch (expr.kind) {
      case 'int':
        return this.emitConstant(expr.value, expr.pos);
      case 'bool':
        return this.emitConstant(expr.value ? 1n : 0n, expr.pos);
      case 'name':
        this.emit(expr.pos, 'load', this.types.localOf(expr).slot);
        return;
      case 'unary':
        if (expr.op === '-' && expr.operand.kind === 'int') {
          // A minus written right before a literal is part of the constant: `-5` is `const -5`.
          return this.emitConstant(BigInt.asIntN(64, -expr.operand.value), expr.pos);
        }
        this.expr(expr.operand);
        this.emit(expr.pos, expr.op === '-' ? 'neg' : expr.op === '!' ? 'not' : 'bit_not');
        return;
      case 'binary': {
        // A long chain `a + b + c + …` nests to the left as deep as it is long: walk down its
        // left operands in a loop (not by recursion, which a chain of 20000 terms would
        // overflow), compile the leftmost operand, then apply the operators from the inside out.
        const chain: (typeof expr)[] = [];
        let leftmost: Expr = expr;
        while (leftmost.kind === 'binary') {
          chain.push(leftmost);
          leftmost = leftmost.left;
        }
        this.expr(leftmost);
        for (let i = chain.length - 1; i >= 0; i--) {
          const node = chain[i]!;
          if (node.op === '&&' || node.op === '||') this.#logical(node.op, node.right, node.pos);
          else this.#binary(node.op, node.left, node.right, node.pos);
        }
        return;
      }
      case 'call':
        return this.#call(expr);
      default:
        throw new Error(`no emit rule for the expression kind '${(expr as Expr).kind}'`);
    }
  }

  /** The left operand's code is emitted already: the right one's, then the operator. */
  #binary(op: keyof typeof ARITHMETIC | keyof typeof ORDERING | keyof typeof EQUALITY, left: Expr, right: Expr, pos: Pos): void {
    this.pending.push(this.types.typeOf(left));
    this.expr(right);
    this.pending.pop();
    this.emit(pos, EQUALITY[op] ?? ORDERING[op] ?? ARITHMETIC[op]!);
  }

  // @book:start logical
  /**
   * `a && b` and `a || b` evaluate `b` only when they must:
   *
   *   a && b:   a; jump_if_false F; b; jump E; F: const false; E:
   *   a || b:   a; jump_if_false R; const true; jump E; R: b; E:
   *
   * `a`'s code is emitted already (see #expr).
   */
  #logical(op: '&&' | '||', right: Expr, pos: Pos): void {
    const toSecond = this.emitJump(pos, 'jump_if_false');
    const depth = this.#depth; // each path below pushes one value; count it once
    if (op === '&&') {
      this.expr(right); //                 a was true: the answer is b
      const toEnd = this.emitJump(pos, 'jump');
      this.#depth = depth;
      this.patch(toSecond);
      this.emitConstant(0n, pos); //       a was false: the answer is false
      this.patch(toEnd);
    } else {
      this.emitConstant(1n, pos); //       a was true: the answer is true
      const toEnd = this.emitJump(pos, 'jump');
      this.#depth = depth;
      this.patch(toSecond);
      this.expr(right); //                 a was false: the answer is b
      this.patch(toEnd);
    }
  }
  // @book:end logical

  // @book:start call
  #call(expr: Expr & { kind: 'call' }): void {
    const callee = this.#signatures.get(expr.callee)!;
    for (const arg of expr.args) {
      this.expr(arg);
      this.pending.push(this.types.typeOf(arg));
    }
    this.recordCall(expr, expr.args.length);
    this.pending.length -= expr.args.length;
    this.emit(expr.pos, 'call', callee.index, expr.args.length);
  }
  // @book:end call
}

/**
 * For each `call` in `code` (and each instruction of an opcode marked `gcPoint`), the local
 * slots live right after it: read on some path before they are written. A backward dataflow over the instructions, repeated until nothing changes:
 *
 *   live-in(i) = reads(i) ∪ (live-out(i) − writes(i))      live-out(i) = ∪ live-in(successors of i)
 *
 * The successors of an instruction are the next one (unless it returns or jumps), its jump
 * targets, and `moreTargets(pc)`: where a later chapter's exception handlers may take it.
 */
export function liveLocalsAtCalls(
  code: readonly number[] | Uint8Array,
  opcodes: OpcodeSet = CORE_OPCODES,
  moreTargets?: (pc: number) => readonly number[],
): Map<number, Set<number>> {
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
    const more = [...(opcodes.byCode[op]?.targets?.(code, pc) ?? []), ...(moreTargets?.(pc) ?? [])];
    return [...next, ...more.map((offset) => index.get(offset)!)];
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
    if (code[pc] === Op.call || opcodes.byCode[code[pc]!]?.gcPoint === true) result.set(pc, liveOut[i]!);
  });
  return result;
}
