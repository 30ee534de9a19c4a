/**
 * Chapter 05: the printer, the parser's inverse.
 *
 * Turns a tree back into source text that parses to the same tree (positions aside). It
 * puts parentheses around every unary and binary expression, so it never has to know the
 * binding powers: `a + b * c` prints as `(a + (b * c))`.
 *
 * Statements print one per line, indented by two spaces per block.
 *
 * The printer handles the core node kinds and hands any other kind to a `PrintExtension`,
 * which a later chapter supplies for the kinds it adds (`new Printer({ stmt: … })`). The
 * functions `printExpr`, `printStmt`, … print with no extension.
 */
import type { Block, Expr, FunctionDecl, Program, Stmt, TypeNode } from './ast.ts';

/**
 * How to print node kinds the core printer does not know. Each hook returns the text for a
 * node it knows, or `undefined` for one it does not (the printer then fails, naming the kind).
 * `printer` prints the node's children, with the extension still in force.
 */
export interface PrintExtension {
  readonly expr?: (expr: Expr, printer: Printer) => string | undefined;
  /** A statement, starting with `indent`; nested lines one level (two spaces) deeper. */
  readonly stmt?: (stmt: Stmt, indent: string, printer: Printer) => string | undefined;
  readonly type?: (type: TypeNode, printer: Printer) => string | undefined;
}

/** A node of a kind that neither the printer nor its extension knows. */
export class UnknownNodeError extends Error {
  override readonly name = 'UnknownNodeError';
  constructor(what: string, node: { readonly kind: string }) {
    super(`the printer does not know the ${what} kind '${node.kind}': give it a PrintExtension for it`);
  }
}

export class Printer {
  readonly #extension: PrintExtension;

  constructor(extension: PrintExtension = {}) {
    this.#extension = extension;
  }

  /** An expression, fully parenthesised: `(a + (b * c))`, `(-x)`, `f(1, (2 + 3))`. */
  expr(expr: Expr): string {
    switch (expr.kind) {
      case 'int':
        return printInt(expr.value);
      case 'bool':
        return expr.value ? 'true' : 'false';
      case 'name':
        return expr.name;
      case 'unary':
        return `(${expr.op}${this.expr(expr.operand)})`;
      case 'binary':
        return `(${this.expr(expr.left)} ${expr.op} ${this.expr(expr.right)})`;
      case 'call':
        return `${expr.callee}(${expr.args.map((arg) => this.expr(arg)).join(', ')})`;
      default:
        return this.#other('expression', expr, this.#extension.expr?.(expr, this));
    }
  }

  /** A written type: `int`. */
  type(type: TypeNode): string {
    switch (type.kind) {
      case 'type-name':
        return type.name;
      default:
        return this.#other('type', type, this.#extension.type?.(type, this));
    }
  }

  /** A statement, starting with `indent`. */
  stmt(stmt: Stmt, indent = ''): string {
    switch (stmt.kind) {
      case 'block':
        return indent + this.block(stmt, indent);
      case 'let': {
        const type = stmt.type ? `: ${this.type(stmt.type)}` : '';
        return `${indent}let ${stmt.name}${type} = ${this.expr(stmt.init)};`;
      }
      case 'assign':
        return `${indent}${this.expr(stmt.target)} = ${this.expr(stmt.value)};`;
      case 'if': {
        let text = `${indent}if ${this.expr(stmt.cond)} ${this.block(stmt.then, indent)}`;
        if (stmt.otherwise) text += ` else ${this.block(stmt.otherwise, indent)}`;
        return text;
      }
      case 'while':
        return `${indent}while ${this.expr(stmt.cond)} ${this.block(stmt.body, indent)}`;
      case 'return':
        return `${indent}return ${this.expr(stmt.value)};`;
      case 'print':
        return `${indent}print(${this.expr(stmt.value)});`;
      case 'expr':
        return `${indent}${this.expr(stmt.expr)};`;
      default:
        return this.#other('statement', stmt, this.#extension.stmt?.(stmt, indent, this));
    }
  }

  /** `{`, the statements one level deeper, and `}` at `indent`; no leading indent. */
  block(block: Block, indent = ''): string {
    if (block.statements.length === 0) return '{}';
    const inner = block.statements.map((s) => this.stmt(s, indent + '  '));
    return `{\n${inner.join('\n')}\n${indent}}`;
  }

  function(fn: FunctionDecl): string {
    const params = fn.params.map((p) => (p.type ? `${p.name}: ${this.type(p.type)}` : p.name)).join(', ');
    const returns = fn.returnType ? `: ${this.type(fn.returnType)}` : '';
    return `fn ${fn.name}(${params})${returns} ${this.block(fn.body)}`;
  }

  program(program: Program): string {
    return program.functions.map((fn) => this.function(fn)).join('\n\n') + '\n';
  }

  /** What an extension hook printed for a kind the core does not know, or the error. */
  #other(what: string, node: unknown, printed: string | undefined): string {
    if (printed === undefined) throw new UnknownNodeError(what, node as { kind: string });
    return printed;
  }
}

/**
 * A literal's value as source text. A negative value cannot be written as a decimal
 * literal (`-1` is a unary minus applied to 1), so it is written as its 64-bit pattern.
 */
export function printInt(value: bigint): string {
  return value >= 0n ? value.toString() : `0x${BigInt.asUintN(64, value).toString(16)}`;
}

const CORE_PRINTER = new Printer();

export function printExpr(expr: Expr): string {
  return CORE_PRINTER.expr(expr);
}

export function printType(type: TypeNode): string {
  return CORE_PRINTER.type(type);
}

export function printStmt(stmt: Stmt, indent = ''): string {
  return CORE_PRINTER.stmt(stmt, indent);
}

export function printBlock(block: Block, indent = ''): string {
  return CORE_PRINTER.block(block, indent);
}

export function printFunction(fn: FunctionDecl): string {
  return CORE_PRINTER.function(fn);
}

export function printProgram(program: Program): string {
  return CORE_PRINTER.program(program);
}
