/**
 * Chapter 05: the printer, the parser's inverse.
 *
 * Turns a tree back into source text that parses to the same tree (positions aside). It
 * puts parentheses around every unary and binary expression, so it never has to know the
 * binding powers: `a + b * c` prints as `(a + (b * c))`.
 *
 * Statements print one per line, indented by two spaces per block.
 */
import type { Block, Expr, FunctionDecl, Program, Stmt, TypeNode } from './ast.ts';

// @book:start print-expr
export function printExpr(expr: Expr): string {
  switch (expr.kind) {
    case 'int':
      return printInt(expr.value);
    case 'bool':
      return expr.value ? 'true' : 'false';
    case 'name':
      return expr.name;
    case 'unary':
      return `(${expr.op}${printExpr(expr.operand)})`;
    case 'binary':
      return `(${printExpr(expr.left)} ${expr.op} ${printExpr(expr.right)})`;
    case 'call':
      return `${expr.callee}(${expr.args.map(printExpr).join(', ')})`;
  }
}

/**
 * A literal's value as source text. A negative value cannot be written as a decimal
 * literal (`-1` is a unary minus applied to 1), so it is written as its 64-bit pattern.
 */
export function printInt(value: bigint): string {
  return value >= 0n ? value.toString() : `0x${BigInt.asUintN(64, value).toString(16)}`;
}
// @book:end print-expr

export function printType(type: TypeNode): string {
  return type.name;
}

export function printStmt(stmt: Stmt, indent = ''): string {
  switch (stmt.kind) {
    case 'block':
      return indent + printBlock(stmt, indent);
    case 'let': {
      const type = stmt.type ? `: ${printType(stmt.type)}` : '';
      return `${indent}let ${stmt.name}${type} = ${printExpr(stmt.init)};`;
    }
    case 'assign':
      return `${indent}${printExpr(stmt.target)} = ${printExpr(stmt.value)};`;
    case 'if': {
      let text = `${indent}if ${printExpr(stmt.cond)} ${printBlock(stmt.then, indent)}`;
      if (stmt.otherwise) text += ` else ${printBlock(stmt.otherwise, indent)}`;
      return text;
    }
    case 'while':
      return `${indent}while ${printExpr(stmt.cond)} ${printBlock(stmt.body, indent)}`;
    case 'return':
      return `${indent}return ${printExpr(stmt.value)};`;
    case 'print':
      return `${indent}print(${printExpr(stmt.value)});`;
    case 'expr':
      return `${indent}${printExpr(stmt.expr)};`;
  }
}

/** `{`, the statements one level deeper, and `}` at `indent`; no leading indent. */
export function printBlock(block: Block, indent = ''): string {
  if (block.statements.length === 0) return '{}';
  const inner = block.statements.map((s) => printStmt(s, indent + '  '));
  return `{\n${inner.join('\n')}\n${indent}}`;
}

export function printFunction(fn: FunctionDecl): string {
  const params = fn.params.map((p) => (p.type ? `${p.name}: ${printType(p.type)}` : p.name)).join(', ');
  const returns = fn.returnType ? `: ${printType(fn.returnType)}` : '';
  return `fn ${fn.name}(${params})${returns} ${printBlock(fn.body)}`;
}

export function printProgram(program: Program): string {
  return program.functions.map(printFunction).join('\n\n') + '\n';
}
