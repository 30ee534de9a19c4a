/**
 * Chapter 10: the type and emit rules of `throw` and `try`, and the handler table.
 *
 * Types: a payload is an int (`throw true;` is the compile error `'throw' needs an int
 * payload, found bool`, at the value); a catch name is an int local of the catch block only.
 *
 * Bytecode: `throw` is one instruction that pops the payload. A `try` costs nothing when no
 * exception is thrown: its body's code is followed by a jump over the catch block, and the
 * range of the body goes into the function's handler table (handlers.ts):
 *
 *   start:   body                         ┐ the range [start, end)
 *   end:     jump done                    ┘
 *   target:  store name                   the payload, on top of the operand stack at `depth`
 *            handler block
 *   done:
 *
 * An entry is recorded when its try statement is finished, so a try nested in another's
 * body comes first: the table is innermost first. The compiler also learns the edge from the
 * body to the catch block, so that the stack maps of the body's calls count the locals the
 * catch block reads.
 */
import type { Stmt } from '#ch05/ast.ts';
import type { CompiledFunction } from '#ch06/bytecode.ts';
import type { FunctionChecker, TypeRules } from '#ch06/checker.ts';
import type { EmitRules, FunctionCompiler } from '#ch06/compiler.ts';
import type { FunctionWithHandlers, HandlerEntry } from './handlers.ts';
import type { ThrowStmt, TryStmt } from './syntax.ts';

// ── types ────────────────────────────────────────────────────────────────────────────

/** `throw value;`: the payload is an int. */
export function checkThrow(checker: FunctionChecker, stmt: Stmt): void {
  const { value } = stmt as ThrowStmt;
  const type = checker.expr(value);
  if (type !== 'int') checker.fail(value.pos, `'throw' needs an int payload, found ${type}`);
}

/** `try { … } catch name { … }`: the body, then the handler with `name` in a scope of its own. */
export function checkTry(checker: FunctionChecker, stmt: Stmt): void {
  const node = stmt as TryStmt;
  checker.block(node.body);
  checker.scope(() => {
    checker.bind(node, checker.declare(node.name, 'int', node.namePos));
    checker.block(node.handler);
  });
}

export const EXCEPTIONS_TYPE_RULES: Partial<TypeRules> = {
  statements: new Map([['throw', checkThrow], ['try', checkTry]]),
};

// ── bytecode ─────────────────────────────────────────────────────────────────────────

/** The handler table of each function being compiled, innermost first. */
const tables = new WeakMap<FunctionCompiler, HandlerEntry[]>();

/** The table of `compiler`'s function so far (a new one for a function's first try). */
function tableOf(compiler: FunctionCompiler): HandlerEntry[] {
  let table = tables.get(compiler);
  if (table === undefined) tables.set(compiler, (table = []));
  return table;
}

/** `throw value;`: the payload, then `throw`. */
export function emitThrow(compiler: FunctionCompiler, stmt: Stmt): void {
  const node = stmt as ThrowStmt;
  compiler.expr(node.value);
  compiler.emit(node.pos, 'throw');
}

/** `try { … } catch name { … }`: the body, a jump over the handler, the handler; one table entry. */
export function emitTry(compiler: FunctionCompiler, stmt: Stmt): void {
  const node = stmt as TryStmt;
  const depth = compiler.depth;
  const start = compiler.here;
  compiler.block(node.body);
  const end = compiler.here;
  const toDone = compiler.emitJump(node.handler.pos, 'jump');
  const target = compiler.here;
  compiler.depth = depth + 1; // the payload, pushed by whoever throws
  compiler.emit(node.namePos, 'store', compiler.types.localOf(node).slot);
  compiler.block(node.handler);
  compiler.patch(toDone);
  if (end === start) return; // nothing in an empty try block can throw
  tableOf(compiler).push({ start, end, target, depth });
  compiler.addEdges(start, end, target); // the catch block's reads are live at the body's calls
}

export const EXCEPTIONS_EMIT_RULES: Partial<EmitRules> = {
  statements: new Map([['throw', emitThrow], ['try', emitTry]]),
};

/** The finish rule: every function compiled at chapter 10's level carries its handler table. */
export function attachHandlers(compiler: FunctionCompiler, fn: CompiledFunction): FunctionWithHandlers {
  return { ...fn, handlers: tables.get(compiler) ?? [] };
}
