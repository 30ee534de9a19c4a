/**
 * Chapter 11: the type and emit rules of arrays.
 *
 * Types are strings, as in chapter 06: an array of T is `[T]` (`[int]`, `[[bool]]`), a record
 * type is its name (records.ts), and the literal `null` has the type `null`, which converts to
 * every array and record type. A reference is a value of any of them: `isReference` is what the collector asks of a stack map.
 *
 * Compile errors (at the node's position):
 *   array length must be int, found bool             (at the length)
 *   cannot index int: only arrays have elements      (at the `[`)
 *   array index must be int, found bool              (at the index)
 *   cannot assign bool to an element of [int]        (at the value)
 *   argument 1 of 'len' must be an array, found int  (at the argument)
 *   cannot print [int]: print takes an int or a bool (at the value)
 *   cannot tell the type of 'x' from null: write its type, as in 'let x: [int] = null;'   (at the null)
 *   '<' needs int operands, found [int] and [int]    (the core rule; == and != compare references)
 *
 * Bytecode (opcodes.ts):
 *   new [T](n)    n; new_array shape          a GC point: it has a stack map, like a call
 *   a[i]          a; i; load_element
 *   a[i] = v;     a; i; v; store_element
 *   len(a)        a; array_length
 *   null          const 0
 */
import type { Expr, Stmt, TypeNode } from '#ch05/ast.ts';
import type { ValueType } from '#ch06/bytecode.ts';
import { resolveType, type FunctionChecker, type TypeRules } from '#ch06/checker.ts';
import type { EmitRules, FunctionCompiler } from '#ch06/compiler.ts';
import { SHAPE } from './heap.ts';
import type { IndexExpr, NewArrayExpr } from './syntax.ts';
import { todo } from '#native/todo.ts';

/**
 * The type of the literal `null`. Array types and `null` are strings like chapter 06's types,
 * made here (`[int]`), so they are cast to `ValueType` rather than listed in `ValueTypes`.
 */
export const NULL_TYPE = 'null' as ValueType;

/** The type of an array of `element`s: `[int]`. */
export function arrayOf(element: ValueType): ValueType {
  return `[${element}]` as ValueType;
}

/** Whether values of `type` are references (roots, when a stack map lists them): arrays, records, null. */
export function isReference(type: ValueType): boolean {
  return type !== 'int' && type !== 'bool';
}

/** The element type of an array type, or undefined for any other type. */
export function elementOf(type: ValueType): ValueType | undefined {
  return type.startsWith('[') ? (type.slice(1, -1) as ValueType) : undefined;
}

/** The shape of an array of `element`s: whether the collector follows its slots. */
export function arrayShape(element: ValueType): number {
  return isReference(element) ? SHAPE.arrayOfReferences : SHAPE.arrayOfValues;
}

// ── types ────────────────────────────────────────────────────────────────────────────

/** `[T]` as written: the type `[T]`. The rules are the whole level's, for T itself. */
function arrayTypeRule(rules: () => TypeRules) {
  return (type: TypeNode): ValueType | undefined =>
    type.kind === 'array-type' ? arrayOf(resolveType(type.element, rules())) : undefined;
}

function checkNewArray(checker: FunctionChecker, expr: Expr): ValueType {
  const node = expr as NewArrayExpr;
  const element = checker.resolveType(node.element);
  const length = checker.expr(node.length);
  if (length !== 'int') checker.fail(node.length.pos, `array length must be int, found ${length}`);
  checker.mark(node); // an allocation: its stack map needs the locals in scope
  return arrayOf(element);
}

/** The array's element type, after checking `a` and `i` of `a[i]`. */
function checkIndexed(checker: FunctionChecker, node: IndexExpr): ValueType {
  // TODO: the type rule of `a[i]` (also the target of `a[i] = v;`): check `a` (checker.expr)
  // and then `i`, in that order, and return the element type.
  //   - a that is not an array type (elementOf gives undefined):
  //       cannot index int: only arrays have elements               (at the `[`, node.pos)
  //   - i that is not an int:
  //       array index must be int, found bool                       (at the index)
  // checker.fail(pos, message) raises the compile error.
  return todo('checkIndexed');
}

/** The calls the checker found to be `len(a)` (a program may define its own `len`). */
const lengthCalls = new WeakSet<Expr>();

function checkCall(checker: FunctionChecker, expr: Expr): ValueType {
  if (expr.kind !== 'call' || expr.callee !== 'len' || checker.signatures.has('len')) return checker.coreExpr(expr);
  lengthCalls.add(expr);
  if (expr.args.length !== 1) checker.fail(expr.pos, `wrong number of arguments to 'len': expected 1, found ${expr.args.length}`);
  const type = checker.expr(expr.args[0]!);
  if (elementOf(type) === undefined) checker.fail(expr.args[0]!.pos, `argument 1 of 'len' must be an array, found ${type}`);
  return 'int';
}

function checkAssign(checker: FunctionChecker, stmt: Stmt): void {
  if (stmt.kind !== 'assign' || stmt.target.kind !== 'index') return checker.coreStatement(stmt);
  const element = checkIndexed(checker, stmt.target);
  const value = checker.expr(stmt.value);
  if (!checker.accepts(element, value)) checker.fail(stmt.value.pos, `cannot assign ${value} to an element of [${element}]`);
}

/** `let x = null;` says nothing of x's type: the declaration must name it. */
function checkLet(checker: FunctionChecker, stmt: Stmt): void {
  if (stmt.kind === 'let' && stmt.type === null && stmt.init.kind === 'null') {
    checker.fail(stmt.init.pos, `cannot tell the type of '${stmt.name}' from null: write its type, as in 'let ${stmt.name}: [int] = null;'`);
  }
  checker.coreStatement(stmt);
}

function checkPrint(checker: FunctionChecker, stmt: Stmt): void {
  if (stmt.kind !== 'print') return checker.coreStatement(stmt);
  const type = checker.expr(stmt.value);
  if (isReference(type)) checker.fail(stmt.value.pos, `cannot print ${type}: print takes an int or a bool`);
}

/** The type rules of arrays; `rules` gives the whole level's rules (for the element types). */
export function heapTypeRules(rules: () => TypeRules): Partial<TypeRules> {
  return {
    types: new Map([['array-type', arrayTypeRule(rules)]]),
    expressions: new Map([
      ['new-array', checkNewArray],
      ['index', (checker, expr) => checkIndexed(checker, expr as IndexExpr)],
      ['null', () => NULL_TYPE],
      ['call', checkCall],
    ]),
    statements: new Map([['assign', checkAssign], ['print', checkPrint], ['let', checkLet]]),
    convertible: (found, wanted) => found === NULL_TYPE && isReference(wanted),
  };
}

// ── bytecode ─────────────────────────────────────────────────────────────────────────

function emitNewArray(compiler: FunctionCompiler, expr: Expr): void {
  // TODO: the bytecode of `new [T](n)`: n, then `new_array shape` (arrayShape of the element
  // type; compiler.types.typeOf(node) is the array's type). new_array is a GC point: before
  // it is emitted, record its stack map with compiler.recordCall(node, 0), as a call records
  // its own. The map must list what is on the operand stack under the instruction, by type:
  // what compiler.pending holds (values of enclosing expressions, pushed before this one)
  // and, on top, the length, an int (push it onto compiler.pending for the recordCall, and
  // pop it after).
  return todo('emitNewArray');
}

/** Pushes `a` and `i` of `a[i]`, each known to the stack maps of the calls that follow. */
function emitArrayAndIndex(compiler: FunctionCompiler, node: IndexExpr): void {
  compiler.expr(node.array);
  compiler.pending.push(compiler.types.typeOf(node.array));
  compiler.expr(node.index);
  compiler.pending.pop();
}

function emitIndex(compiler: FunctionCompiler, expr: Expr): void {
  const node = expr as IndexExpr;
  emitArrayAndIndex(compiler, node);
  compiler.emit(node.pos, 'load_element');
}

function emitCall(compiler: FunctionCompiler, expr: Expr): void {
  if (expr.kind !== 'call' || !lengthCalls.has(expr)) return compiler.coreExpr(expr);
  compiler.expr(expr.args[0]!);
  compiler.emit(expr.pos, 'array_length');
}

function emitAssign(compiler: FunctionCompiler, stmt: Stmt): void {
  if (stmt.kind !== 'assign' || stmt.target.kind !== 'index') return compiler.coreStatement(stmt);
  const target = stmt.target;
  compiler.expr(target.array);
  compiler.pending.push(compiler.types.typeOf(target.array));
  compiler.expr(target.index);
  compiler.pending.push('int');
  compiler.expr(stmt.value);
  compiler.pending.length -= 2;
  compiler.emit(target.pos, 'store_element');
}

export const HEAP_EMIT_RULES: Partial<EmitRules> = {
  expressions: new Map([
    ['new-array', emitNewArray],
    ['index', emitIndex],
    ['null', (compiler, expr) => compiler.emitConstant(0n, expr.pos)],
    ['call', emitCall],
  ]),
  statements: new Map([['assign', emitAssign]]),
};
