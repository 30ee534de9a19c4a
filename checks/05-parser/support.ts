/**
 * Helpers for the chapter 05 checks: looking at trees without their positions, a printer
 * of our own (so that precedence checks do not depend on the learner's printer), a seeded
 * generator of random expressions, and the invalid programs with their expected errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportOutcome } from '#harness/check.ts';
import type { BinaryOp, Expr, UnaryOp } from '#ch05/ast.ts';

/** A copy of a tree without `pos` and `end`, bigints written as `123n`, for deep comparison. */
export function strip(node: unknown): unknown {
  if (typeof node === 'bigint') return `${node}n`;
  if (Array.isArray(node)) return node.map(strip);
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'pos' || key === 'end') continue;
      out[key] = strip(value);
    }
    return out;
  }
  return node;
}

/** JSON with the keys of every object in sorted order: one text for trees that are deep-equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().filter((k) => record[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * `strip(tree)`, reported under `name` as canonical JSON. What the checks observe of the
 * learner's parser is reported so that graded work is held to what the grader's own reference
 * run observed, outside the process that ran the code: trees without positions, tokens, and
 * the line:column of errors are what every correct parser agrees on.
 */
export function reportTree(name: string, tree: unknown): unknown {
  const stripped = strip(tree);
  reportOutcome(name, { output: [canonicalJson(stripped)] });
  return stripped;
}

/** Reports the line:column an error message starts with (its wording is not reported); returns the message. */
export function reportErrorPlace(name: string, message: string): string {
  reportOutcome(name, { output: [/^\d+:\d+(?=:)/.exec(message)?.[0] ?? 'no line:column'] });
  return message;
}

/** Reports lines observed of the learner's code under `name`; returns them. */
export function reportLines(name: string, lines: string[]): string[] {
  reportOutcome(name, { output: lines });
  return lines;
}

/** An expression with every operation in parentheses: `(a + (b * c))`, `(-x)`, `f(a, b)`. */
export function shape(expr: Expr): string {
  switch (expr.kind) {
    case 'int':
      return expr.value.toString();
    case 'bool':
      return String(expr.value);
    case 'name':
      return expr.name;
    case 'unary':
      return `(${expr.op}${shape(expr.operand)})`;
    case 'binary':
      return `(${shape(expr.left)} ${expr.op} ${shape(expr.right)})`;
    case 'call':
      return `${expr.callee}(${expr.args.map(shape).join(', ')})`;
    default:
      return `<not an expression: ${JSON.stringify(strip(expr))}>`;
  }
}

export const BINARY_OPS: readonly BinaryOp[] = [
  '||', '&&', '==', '!=', '<', '<=', '>', '>=', '|', '^', '&', '<<', '>>', '>>>', '+', '-', '*', '/', '%',
];
export const UNARY_OPS: readonly UnaryOp[] = ['-', '!', '~'];

/** Precedence levels from the language reference, loosest first. */
export const LEVELS: readonly (readonly BinaryOp[])[] = [
  ['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['|'], ['^'], ['&'], ['<<', '>>', '>>>'], ['+', '-'], ['*', '/', '%'],
];

export function levelOf(op: BinaryOp): number {
  return LEVELS.findIndex((ops) => ops.includes(op));
}

export function isComparison(op: BinaryOp): boolean {
  const level = levelOf(op);
  return level === 2 || level === 3;
}

const NAMES = ['a', 'b', 'x', 'count', 'n_1', '_tmp', 'fnord', 'iffy', 'lets', 'printer', 'truely'];
const POS = { line: 1, column: 1 };

/** A random integer below `n`, from a `[0, 1)` source. */
export function below(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

function randomInt(random: () => number): bigint {
  switch (below(random, 5)) {
    case 0:
      return BigInt(below(random, 10));
    case 1:
      return BigInt(below(random, 1_000_000));
    case 2:
      return (1n << 63n) - 1n; // INT64_MAX
    case 3:
      return -(1n << 63n) + BigInt(below(random, 3)); // near INT64_MIN: printed as hex
    default: {
      const high = BigInt(below(random, 2 ** 31));
      const low = BigInt(below(random, 2 ** 32));
      return BigInt.asIntN(64, (high << 32n) | low);
    }
  }
}

/** A random expression tree (positions all 1:1) of at most `depth` levels. */
export function randomExpr(random: () => number, depth: number): Expr {
  const leaf = depth <= 0 || random() < 0.25;
  if (leaf) {
    switch (below(random, 3)) {
      case 0:
        return { kind: 'int', value: randomInt(random), pos: POS };
      case 1:
        return { kind: 'bool', value: random() < 0.5, pos: POS };
      default:
        return { kind: 'name', name: NAMES[below(random, NAMES.length)]!, pos: POS };
    }
  }
  const pick = random();
  if (pick < 0.2) {
    return { kind: 'unary', op: UNARY_OPS[below(random, UNARY_OPS.length)]!, operand: randomExpr(random, depth - 1), pos: POS };
  }
  if (pick < 0.3) {
    const args = Array.from({ length: below(random, 4) }, () => randomExpr(random, depth - 1));
    return { kind: 'call', callee: NAMES[below(random, NAMES.length)]!, args, pos: POS };
  }
  const op = BINARY_OPS[below(random, BINARY_OPS.length)]!;
  return { kind: 'binary', op, left: randomExpr(random, depth - 1), right: randomExpr(random, depth - 1), pos: POS };
}

export interface InvalidProgram {
  readonly file: string;
  readonly source: string;
  /** `3:14: expected ')' after arguments, found '{'` */
  readonly expected: string;
}

const INVALID_DIR = join(dirname(fileURLToPath(import.meta.url)), 'invalid');

/** The programs of checks/05-parser/invalid, each with the error on its first line. */
export function loadInvalidPrograms(): InvalidProgram[] {
  return readdirSync(INVALID_DIR)
    .filter((file) => file.endsWith('.jot'))
    .sort()
    .map((file) => {
      const source = readFileSync(join(INVALID_DIR, file), 'utf8');
      const expected = /^\/\/ expect error: (.*)$/m.exec(source)?.[1]?.trimEnd();
      if (expected === undefined) throw new Error(`${file}: no '// expect error: …' line`);
      return { file, source, expected };
    });
}

/** Lexical errors: bad characters and literals. The rest are syntax errors. */
export function isLexicalError(message: string): boolean {
  return /unexpected character|invalid number literal|does not fit in 64 bits|hex digits/.test(message);
}
