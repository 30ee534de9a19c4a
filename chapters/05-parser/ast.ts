/**
 * Chapter 05: the abstract syntax tree of Jot.
 *
 * Every node is a plain object with a `kind` string, so a `switch (node.kind)` narrows it
 * (a discriminated union), and every node carries the source position the compiler will
 * blame when something is wrong with it.
 *
 * Which position a node carries is part of the language: errors in later chapters point
 * there. It is the position of the token that names the node's operation:
 *   - a literal or a variable: its token;
 *   - a unary or binary expression: its operator (`a +\n b` is "at" the `+`);
 *   - a call: the function's name;
 *   - a statement: its keyword (`let`, `if`, …); an assignment: its `=`; an expression
 *     statement: the expression's position; a block: its `{`.
 */

export interface Pos {
  readonly line: number;
  readonly column: number;
}

export type UnaryOp = '-' | '!' | '~';

export type BinaryOp =
  | '||' | '&&'
  | '==' | '!='
  | '<' | '<=' | '>' | '>='
  | '|' | '^' | '&'
  | '<<' | '>>' | '>>>'
  | '+' | '-'
  | '*' | '/' | '%';

/**
 * An integer literal. `value` is already the 64-bit value: decimal literals are at most
 * 2^63 - 1 (2^63 only right after a unary minus, where it stands for INT64_MIN), and hex
 * literals are 64-bit patterns, so `0xffffffffffffffff` has the value -1.
 */
export interface IntLiteral { readonly kind: 'int'; readonly value: bigint; readonly pos: Pos }
export interface BoolLiteral { readonly kind: 'bool'; readonly value: boolean; readonly pos: Pos }
export interface NameExpr { readonly kind: 'name'; readonly name: string; readonly pos: Pos }
export interface UnaryExpr { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly pos: Pos }
export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly pos: Pos;
}
/** `callee(args…)`. Functions are not values: the callee is always a name. */
export interface CallExpr { readonly kind: 'call'; readonly callee: string; readonly args: readonly Expr[]; readonly pos: Pos }

export type Expr = IntLiteral | BoolLiteral | NameExpr | UnaryExpr | BinaryExpr | CallExpr;

/** What may stand left of `=`. Chapter 11 widens this with array elements and fields. */
export type AssignTarget = NameExpr;

/** A type written in the source: `int`, `bool`. Chapter 11 adds array and record types. */
export interface TypeName { readonly kind: 'type-name'; readonly name: string; readonly pos: Pos }
export type TypeNode = TypeName;

export interface Block {
  readonly kind: 'block';
  readonly statements: readonly Stmt[];
  readonly pos: Pos;
  /** The position of the closing `}`: where a function that falls off its end returns. */
  readonly end: Pos;
}
/** `let name = init;` or `let name: type = init;` */
export interface LetStmt {
  readonly kind: 'let';
  readonly name: string;
  readonly type: TypeNode | null;
  readonly init: Expr;
  readonly pos: Pos;
}
export interface AssignStmt { readonly kind: 'assign'; readonly target: AssignTarget; readonly value: Expr; readonly pos: Pos }
/** `else if …` is an `else` block holding a single `if` statement. */
export interface IfStmt {
  readonly kind: 'if';
  readonly cond: Expr;
  readonly then: Block;
  readonly otherwise: Block | null;
  readonly pos: Pos;
}
export interface WhileStmt { readonly kind: 'while'; readonly cond: Expr; readonly body: Block; readonly pos: Pos }
export interface ReturnStmt { readonly kind: 'return'; readonly value: Expr; readonly pos: Pos }
export interface PrintStmt { readonly kind: 'print'; readonly value: Expr; readonly pos: Pos }
export interface ExprStmt { readonly kind: 'expr'; readonly expr: Expr; readonly pos: Pos }

export type Stmt = Block | LetStmt | AssignStmt | IfStmt | WhileStmt | ReturnStmt | PrintStmt | ExprStmt;

export interface Param { readonly name: string; readonly type: TypeNode | null; readonly pos: Pos }

/** `fn name(params): returnType { body }`. `pos` is the name's position. */
export interface FunctionDecl {
  readonly kind: 'function';
  readonly name: string;
  readonly params: readonly Param[];
  /** `null` when not written: the function returns `int`. */
  readonly returnType: TypeNode | null;
  readonly body: Block;
  readonly pos: Pos;
}

export interface Program {
  readonly kind: 'program';
  readonly functions: readonly FunctionDecl[];
}
