/**
 * Chapter 06: the type checker, the first half of the compiler.
 *
 * It walks a function's syntax tree once, before any bytecode exists, and settles what the
 * bytecode compiler (compiler.ts) will need: the type of every expression, the local slot
 * of every variable, and which locals are in scope at each call. Errors are found here;
 * the compiler that follows never fails on types.
 *
 * Variables live in numbered local slots. Parameters take slots 0…n-1 in order; each `let`
 * takes the next free slot, and the slots of a block's variables are free again after the
 * block's `}` (so `locals` is the most slots live at once, not the number of `let`s).
 *
 * The rules for a node kind this chapter does not know come from `TypeRules`: a later
 * chapter adds a rule by kind (`throw`, `try`, an array literal, an array type) and checks
 * with the result. A rule may also replace a core kind's; it can hand the node back to the
 * core rule with `coreStatement` / `coreExpr`.
 *
 * Compile errors (`CompileError`, at the node's position; compiler.ts lists them all).
 */
import type { BinaryExpr, BinaryOp, Block, Expr, FunctionDecl, Pos, Stmt, TypeNode } from '#ch05/ast.ts';
import { CompileError } from '#ch05/errors.ts';
import type { ValueType } from './bytecode.ts';

export const MAX_PARAMS = 6;
export const MAX_LOCALS = 256;
/** A call names its function in a u16. */
export const MAX_FUNCTIONS = 65536;

/** A function's name, index and types, known before any body is checked. */
export interface Signature {
  readonly index: number;
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly returnType: ValueType;
}

/** A variable: its slot in the frame and its type. */
export interface Local {
  readonly slot: number;
  readonly type: ValueType;
}

// @book:start function-types
/** What the checker found out about one function, for the bytecode compiler. */
export interface FunctionTypes {
  readonly signature: Signature;
  /** Local slots the frame needs, parameters included. */
  readonly locals: number;
  /** The type of an expression node. */
  typeOf(expr: Expr): ValueType;
  /** The variable a node declares or names: a `let`, a name, an assignment, or a later chapter's node. */
  localOf(node: object): Local;
  /** The locals in scope at a node the checker marked (every call), in slot order. */
  scopeAt(node: object): readonly Local[];
}
// @book:end function-types

// @book:start type-rules
/** How a later chapter's statement kind is checked. */
export type StatementRule = (checker: FunctionChecker, stmt: Stmt) => void;
/** How a later chapter's expression kind is checked; returns its type. */
export type ExprRule = (checker: FunctionChecker, expr: Expr) => ValueType;
/** What a later chapter's type syntax means; undefined hands the node on to the core rule. */
export type TypeRule = (type: TypeNode, fail: (pos: Pos, detail: string) => never) => ValueType | undefined;

/** Type rules by node kind, consulted before the core rules (so they may replace one). */
export interface TypeRules {
  readonly statements: ReadonlyMap<string, StatementRule>;
  readonly expressions: ReadonlyMap<string, ExprRule>;
  readonly types: ReadonlyMap<string, TypeRule>;
  /**
   * Whether a value of type `found` may stand where `wanted` is expected although the types
   * differ (a later chapter's `null` where an array is wanted). Without it, types must match.
   */
  readonly convertible?: (found: ValueType, wanted: ValueType) => boolean;
}

export const CORE_TYPE_RULES: TypeRules = Object.freeze({ statements: new Map(), expressions: new Map(), types: new Map() });

/** New rules: `base`'s with `added`'s, an entry of `added` winning. `base` is not changed. */
export function extendTypeRules(base: TypeRules, added: Partial<TypeRules>): TypeRules {
  const convertible = added.convertible ?? base.convertible;
  return Object.freeze({
    statements: new Map([...base.statements, ...(added.statements ?? [])]),
    expressions: new Map([...base.expressions, ...(added.expressions ?? [])]),
    types: new Map([...base.types, ...(added.types ?? [])]),
    ...(convertible === undefined ? {} : { convertible }),
  });
}
// @book:end type-rules

export function fail(pos: Pos, detail: string): never {
  throw new CompileError(pos.line, pos.column, detail);
}

/** The value type a type annotation names; no annotation means int. */
export function resolveType(type: TypeNode | null, rules: TypeRules = CORE_TYPE_RULES): ValueType {
  if (type === null) return 'int';
  const rule = rules.types.get(type.kind);
  const found = rule?.(type, fail);
  if (found !== undefined) return found;
  const named = type as TypeNode & { readonly name?: string };
  if (named.name === 'int' || named.name === 'bool') return named.name;
  fail(named.pos, `unknown type '${named.name ?? named.kind}'`);
}

/** Binary operators and the opcodes that compute them. */
export const ARITHMETIC: Partial<Record<BinaryOp, 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'bit_and' | 'bit_or' | 'bit_xor' | 'shl' | 'sar' | 'shr'>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod',
  '&': 'bit_and', '|': 'bit_or', '^': 'bit_xor', '<<': 'shl', '>>': 'sar', '>>>': 'shr',
};
export const ORDERING: Partial<Record<BinaryOp, 'lt' | 'le' | 'gt' | 'ge'>> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
export const EQUALITY: Partial<Record<BinaryOp, 'eq' | 'ne'>> = { '==': 'eq', '!=': 'ne' };

/**
 * Checks one function's body. Its public methods are what a later chapter's rules use:
 * `expr`, `statement`, `block`, `scope`, `declare`, `lookup`, `mark`, `resolveType`, `fail`.
 */
export class FunctionChecker {
  readonly decl: FunctionDecl;
  readonly signature: Signature;
  readonly signatures: ReadonlyMap<string, Signature>;
  readonly rules: TypeRules;
  readonly #types = new Map<Expr, ValueType>();
  readonly #locals = new Map<object, Local>();
  readonly #marks = new Map<object, readonly Local[]>();
  /** Innermost scope last; each maps a name to its slot and type. */
  readonly #scopes: Map<string, Local>[] = [];
  #nextSlot = 0;
  #maxSlots = 0;

  constructor(decl: FunctionDecl, signatures: ReadonlyMap<string, Signature>, rules: TypeRules = CORE_TYPE_RULES) {
    this.decl = decl;
    this.signatures = signatures;
    this.signature = signatures.get(decl.name)!;
    this.rules = rules;
  }

  check(): FunctionTypes {
    this.#scopes.push(new Map());
    this.decl.params.forEach((param, i) => this.#locals.set(param, this.declare(param.name, this.signature.params[i]!, param.pos)));
    this.block(this.decl.body);
    const types = this.#types;
    const locals = this.#locals;
    const marks = this.#marks;
    return {
      signature: this.signature,
      locals: this.#maxSlots,
      typeOf: (expr) => {
        const type = types.get(expr);
        if (type === undefined) throw new Error(`the checker gave no type to the ${expr.kind} at ${expr.pos.line}:${expr.pos.column}`);
        return type;
      },
      localOf: (node) => {
        const local = locals.get(node);
        if (local === undefined) throw new Error('the checker gave no variable to this node');
        return local;
      },
      scopeAt: (node) => marks.get(node) ?? [],
    };
  }

  fail(pos: Pos, detail: string): never {
    return fail(pos, detail);
  }

  resolveType(type: TypeNode | null): ValueType {
    return resolveType(type, this.rules);
  }

  /** Whether a value of type `found` may stand where `wanted` is expected: the same type, or a conversion the rules allow. */
  accepts(wanted: ValueType, found: ValueType): boolean {
    return found === wanted || (this.rules.convertible?.(found, wanted) ?? false);
  }

  // ── scopes ─────────────────────────────────────────────────────────────────────────

  /** Runs `body` in a new scope: the variables it declares are gone, and their slots free, after it. */
  scope<T>(body: () => T): T {
    this.#scopes.push(new Map());
    const saved = this.#nextSlot;
    try {
      return body();
    } finally {
      this.#nextSlot = saved;
      this.#scopes.pop();
    }
  }

  /** Gives `name` the next free slot in the innermost scope. */
  declare(name: string, type: ValueType, pos: Pos): Local {
    const scope = this.#scopes.at(-1)!;
    if (scope.has(name)) fail(pos, `'${name}' is already declared in this scope`);
    const slot = this.#nextSlot;
    if (slot >= MAX_LOCALS) fail(pos, `too many local variables in '${this.decl.name}' (at most ${MAX_LOCALS})`);
    const local = { slot, type };
    scope.set(name, local);
    this.#nextSlot++;
    this.#maxSlots = Math.max(this.#maxSlots, this.#nextSlot);
    return local;
  }

  lookup(name: string, pos: Pos): Local {
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const local = this.#scopes[i]!.get(name);
      if (local !== undefined) return local;
    }
    fail(pos, `undefined variable '${name}'`);
  }

  /** Records `local` as the variable of `node`, for the compiler's `localOf(node)`. */
  bind(node: object, local: Local): Local {
    this.#locals.set(node, local);
    return local;
  }

  /** Records the locals in scope at `node` (a call; in chapter 11 an allocation), for its stack map. */
  mark(node: object): void {
    const inScope = new Map<number, Local>();
    for (const scope of this.#scopes) for (const local of scope.values()) inScope.set(local.slot, local);
    this.#marks.set(node, [...inScope.values()].sort((a, b) => a.slot - b.slot));
  }

  // ── statements ─────────────────────────────────────────────────────────────────────

  block(block: Block): void {
    this.scope(() => {
      for (const stmt of block.statements) this.statement(stmt);
    });
  }

  statement(stmt: Stmt): void {
    const rule = this.rules.statements.get(stmt.kind);
    if (rule !== undefined) rule(this, stmt);
    else this.coreStatement(stmt);
  }

  /** The rules of the core statements. */
  coreStatement(stmt: Stmt): void {
    switch (stmt.kind) {
      case 'block':
        return this.block(stmt);
      case 'let': {
        const type = this.expr(stmt.init);
        const declared = stmt.type === null ? type : this.resolveType(stmt.type);
        if (!this.accepts(declared, type)) fail(stmt.init.pos, `cannot assign ${type} to '${stmt.name}' of type ${declared}`);
        this.bind(stmt, this.declare(stmt.name, declared, stmt.pos));
        return;
      }
      case 'assign': {
        const { target } = stmt;
        if (target.kind !== 'name') return fail(stmt.pos, `no type rule for assigning to the kind '${target.kind}'`);
        const type = this.expr(stmt.value);
        const local = this.bind(stmt, this.lookup(target.name, target.pos));
        if (!this.accepts(local.type, type)) fail(stmt.value.pos, `cannot assign ${type} to '${target.name}' of type ${local.type}`);
        return;
      }
      case 'if':
        this.#condition(stmt.cond, 'if');
        this.block(stmt.then);
        if (stmt.otherwise !== null) this.block(stmt.otherwise);
        return;
      case 'while':
        this.#condition(stmt.cond, 'while');
        this.block(stmt.body);
        return;
      case 'return': {
        const type = this.expr(stmt.value);
        const expected = this.signature.returnType;
        if (!this.accepts(expected, type)) fail(stmt.value.pos, `return value of '${this.decl.name}' must be ${expected}, found ${type}`);
        return;
      }
      case 'print':
        this.expr(stmt.value);
        return;
      case 'expr':
        this.expr(stmt.expr);
        return;
      default:
        return fail((stmt as Stmt).pos, `no type rule for the statement kind '${(stmt as Stmt).kind}'`);
    }
  }

  #condition(cond: Expr, keyword: 'if' | 'while'): void {
    const type = this.expr(cond);
    if (type !== 'bool') fail(cond.pos, `condition of '${keyword}' must be bool, found ${type}`);
  }

  // ── expressions ────────────────────────────────────────────────────────────────────

  /** Checks `expr`, records its type and returns it. */
  expr(expr: Expr): ValueType {
    const rule = this.rules.expressions.get(expr.kind);
    const type = rule !== undefined ? rule(this, expr) : this.coreExpr(expr);
    this.#types.set(expr, type);
    return type;
  }

  /** The rules of the core expressions. */
  coreExpr(expr: Expr): ValueType {
    switch (expr.kind) {
      case 'int':
        return 'int';
      case 'bool':
        return 'bool';
      case 'name':
        return this.bind(expr, this.lookup(expr.name, expr.pos)).type;
      case 'unary': {
        if (expr.op === '-' && expr.operand.kind === 'int') {
          this.expr(expr.operand);
          return 'int';
        }
        const type = this.expr(expr.operand);
        const wanted: ValueType = expr.op === '!' ? 'bool' : 'int';
        if (type !== wanted) fail(expr.pos, `'${expr.op}' needs ${wanted === 'int' ? 'an int' : 'a bool'} operand, found ${type}`);
        return wanted;
      }
      case 'binary': {
        // A chain `a + b + c + …` nests to the left as deep as it is long: walk down its
        // left operands in a loop (a chain of 20000 terms would overflow a recursion), check
        // the leftmost operand, then the operators from the inside out.
        const chain: BinaryExpr[] = [];
        let leftmost: Expr = expr;
        while (leftmost.kind === 'binary') {
          chain.push(leftmost);
          leftmost = leftmost.left;
        }
        let type = this.expr(leftmost);
        for (let i = chain.length - 1; i >= 0; i--) type = this.#binary(chain[i]!, type);
        return type;
      }
      case 'call':
        return this.#call(expr.callee, expr.args, expr);
      default:
        return fail((expr as Expr).pos, `no type rule for the expression kind '${(expr as Expr).kind}'`);
    }
  }

  /**
   * `left op right` once left is checked (its type is `a`): the right operand, then the
   * operator. Records and returns the type of `node`.
   */
  #binary(node: BinaryExpr, a: ValueType): ValueType {
    const type = this.#operator(node, a, this.expr(node.right));
    this.#types.set(node, type);
    return type;
  }

  #operator(node: BinaryExpr, a: ValueType, b: ValueType): ValueType {
    const { op, pos } = node;
    if (op === '&&' || op === '||') {
      if (a !== 'bool' || b !== 'bool') fail(pos, `'${op}' needs bool operands, found ${a} and ${b}`);
      return 'bool';
    }
    if (EQUALITY[op] !== undefined) {
      if (!this.accepts(a, b) && !this.accepts(b, a)) fail(pos, `'${op}' needs operands of the same type, found ${a} and ${b}`);
      return 'bool';
    }
    if (a !== 'int' || b !== 'int') fail(pos, `'${op}' needs int operands, found ${a} and ${b}`);
    return ORDERING[op] !== undefined ? 'bool' : 'int';
  }

  #call(name: string, args: readonly Expr[], node: Expr): ValueType {
    const callee = this.signatures.get(name);
    if (callee === undefined) fail(node.pos, `undefined function '${name}'`);
    if (args.length !== callee.params.length) {
      fail(node.pos, `wrong number of arguments to '${name}': expected ${callee.params.length}, found ${args.length}`);
    }
    args.forEach((arg, i) => {
      const type = this.expr(arg);
      const wanted = callee.params[i]!;
      if (!this.accepts(wanted, type)) fail(arg.pos, `argument ${i + 1} of '${name}' must be ${wanted}, found ${type}`);
    });
    this.mark(node);
    return callee.returnType;
  }
}
