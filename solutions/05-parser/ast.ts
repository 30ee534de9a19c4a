/**
 * Chapter 05: the abstract syntax tree of Jot.
 *
 * Every node is a plain object with a `kind` string, so a `switch (node.kind)` narrows it
 * (a discriminated union), and every node carries the source position the compiler will
 * blame when something is wrong with it.
 *
 * The unions are built from interface maps (`ExprKinds`, `StmtKinds`, `TypeKinds`) rather
 * than written out, so that a later chapter can add node kinds from its own folder without
 * editing this file. Code that switches over kinds handles the kinds it knows and hands any
 * other kind to an extension hook (see printer.ts).
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

// @book:start expr
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

/**
 * Every kind of expression, by its `kind`. The map is open: a later chapter adds a kind by
 * declaration merging, and `Expr` grows with it (so does every `switch` that must handle it):
 *
 *   declare module '#ch05/ast.ts' {
 *     interface ExprKinds { 'new-array': NewArrayExpr }
 *   }
 */
export interface ExprKinds {
  int: IntLiteral;
  bool: BoolLiteral;
  name: NameExpr;
  unary: UnaryExpr;
  binary: BinaryExpr;
  call: CallExpr;
}
export type Expr = ExprKinds[keyof ExprKinds];
// @book:end expr

/**
 * What may stand left of `=`, by kind: today a name. Open like `ExprKinds`; the grammar's
 * `assignable` predicate decides which expressions the parser accepts there.
 */
export interface AssignTargetKinds {
  name: NameExpr;
}
export type AssignTarget = AssignTargetKinds[keyof AssignTargetKinds];

/** A type written in the source: `int`, `bool`. */
export interface TypeName { readonly kind: 'type-name'; readonly name: string; readonly pos: Pos }
/** Every kind of written type, open like `ExprKinds`. */
export interface TypeKinds {
  'type-name': TypeName;
}
export type TypeNode = TypeKinds[keyof TypeKinds];

// @book:start stmt
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

/**
 * Every kind of statement, by its `kind`, open like `ExprKinds`:
 *
 *   declare module '#ch05/ast.ts' {
 *     interface StmtKinds { throw: ThrowStmt }
 *   }
 */
export interface StmtKinds {
  block: Block;
  let: LetStmt;
  assign: AssignStmt;
  if: IfStmt;
  while: WhileStmt;
  return: ReturnStmt;
  print: PrintStmt;
  expr: ExprStmt;
}
export type Stmt = StmtKinds[keyof StmtKinds];
// @book:end stmt

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

/**
 * A top-level declaration other than a function, by its `kind`: none in this chapter; open
 * like `ExprKinds` (a later chapter's record types are declared at the top level).
 */
export interface DeclarationKinds {}
export type Declaration = DeclarationKinds[keyof DeclarationKinds];

export interface Program {
  readonly kind: 'program';
  readonly functions: readonly FunctionDecl[];
  /** The other top-level declarations, in source order; absent when there are none. */
  readonly declarations?: readonly Declaration[];
}
