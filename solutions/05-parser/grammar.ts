/**
 * Chapter 05: the grammar as tables, and how a later chapter extends them.
 *
 * The parser (parser.ts) is a small engine that knows no construct of Jot by itself. Which
 * words are keywords, which marks are punctuation, what a statement starting with `while`
 * looks like, what an expression starting with `(` or continuing with `*` looks like, and
 * what may stand left of `=`: all of it is looked up in a `Grammar`.
 *
 * `CORE_GRAMMAR` is the language of chapters 05 to 09. A later chapter adds its syntax with
 * `extendGrammar`, from its own folder, and parses with the result:
 *
 *   const grammar = extendGrammar(CORE_GRAMMAR, {
 *     statements: { throw: parseThrow },
 *     infix: { '?': { power: 1, parse: parseConditional } },
 *     punctuation: ['?'],
 *   });
 *   parse(source, grammar);
 *
 * Grammars are values: extending one returns a new grammar and leaves the old one as it was,
 * so chapters never see each other's syntax unless they ask for it.
 */
import type { Declaration, Expr, Stmt, TypeNode } from './ast.ts';
import { KEYWORDS, PUNCTUATION, RESERVED, type Token } from './lexer.ts';
import {
  BINARY_OPERATORS, binaryParselet, parseBoolLiteral, parseTypeName, parseGroup, parseIf, parseIntLiteral, parseLet,
  parseNameOrCall, parsePrint, parseReturn, parseUnary, parseWhile,
} from './parselets.ts';
import type { Parser } from './parser.ts';

/**
 * Parses a statement that starts with a keyword. The keyword is consumed and passed in;
 * the statement's node is usually at it. A statement that ends in `;` consumes it.
 */
export type StatementParselet = (parser: Parser, keyword: Token) => Stmt;

/** Parses a top-level declaration that starts with a keyword (consumed and passed in). */
export type DeclarationParselet = (parser: Parser, keyword: Token) => Declaration;

/** Parses an expression that starts with `token` (consumed): a literal, a name, `(`, `-`, … */
export type PrefixParselet = (parser: Parser, token: Token) => Expr;

/** Parses a written type that starts with `token` (consumed): `int`, and later `[int]`. */
export type TypeParselet = (parser: Parser, token: Token) => TypeNode;

/**
 * Parses the rest of an expression whose left part is already parsed, once the operator
 * token (consumed) is seen: `left * …`, `left[…]`, `left.field`.
 */
export interface InfixParselet {
  /**
   * The left binding power: the Pratt loop applies this parselet only when `power` is at
   * least the minimum power it was called with. Core binary operators have even powers from
   * 2 (`||`) to 20 (`*`); prefix operators parse their operand at 22.
   */
  readonly power: number;
  /**
   * True for an operator that may not follow another operator of the same power without
   * parentheses (`a < b < c`). Associativity otherwise comes from the power with which
   * `parse` reads its right operand: `power + 1` groups to the left, `power` to the right.
   */
  readonly nonAssociative?: boolean;
  parse(parser: Parser, left: Expr, operator: Token): Expr;
}

export interface Grammar {
  /** Words the lexer returns as keyword tokens (kind = the word) instead of names. */
  readonly keywords: ReadonlySet<string>;
  /** Operator and punctuation tokens, longest first (the lexer takes the first that matches). */
  readonly punctuation: readonly string[];
  /** Statement parselets by leading keyword. A statement with none is an expression or assignment. */
  readonly statements: ReadonlyMap<string, StatementParselet>;
  /** Prefix parselets by token kind: what an expression may start with. */
  readonly prefix: ReadonlyMap<string, PrefixParselet>;
  /** Infix parselets by token kind: what may follow a complete expression. */
  readonly infix: ReadonlyMap<string, InfixParselet>;
  /** What may stand left of `=` (besides this, a parenthesized expression never may). */
  readonly assignable: (target: Expr) => boolean;
  /** Type parselets by token kind: what a written type may start with. */
  readonly types: ReadonlyMap<string, TypeParselet>;
  /** Top-level declarations besides `fn`, by leading keyword (none in the core language). */
  readonly declarations?: ReadonlyMap<string, DeclarationParselet>;
}

/** What `extendGrammar` adds to a grammar. Every part is optional. */
export interface GrammarExtension {
  /** More keywords. Words that are already keywords (such as the reserved ones) are fine. */
  readonly keywords?: readonly string[];
  /** More punctuation marks, in any order: the grammar keeps the whole list longest first. */
  readonly punctuation?: readonly string[];
  /** Statement parselets by keyword; an entry replaces the base grammar's for that keyword. */
  readonly statements?: Readonly<Record<string, StatementParselet>>;
  /** Prefix parselets by token kind; an entry replaces the base grammar's. */
  readonly prefix?: Readonly<Record<string, PrefixParselet>>;
  /** Infix parselets by token kind; an entry replaces the base grammar's. */
  readonly infix?: Readonly<Record<string, InfixParselet>>;
  /** Targets the new grammar accepts besides those the base grammar accepts. */
  readonly assignable?: (target: Expr) => boolean;
  /** Type parselets by token kind; an entry replaces the base grammar's. */
  readonly types?: Readonly<Record<string, TypeParselet>>;
  /** Top-level declaration parselets by keyword; an entry replaces the base grammar's. */
  readonly declarations?: Readonly<Record<string, DeclarationParselet>>;
}

/**
 * A new grammar: `base` with `extension` added. `base` is not changed. New keywords and marks
 * go to the lexer too; the punctuation list is sorted longest first (stable, so marks of one
 * length keep their order).
 */
export function extendGrammar(base: Grammar, extension: GrammarExtension): Grammar {
  const punctuation = [...new Set([...base.punctuation, ...(extension.punctuation ?? [])])];
  punctuation.sort((a, b) => b.length - a.length);
  const widen = extension.assignable;
  const baseAssignable = base.assignable;
  return {
    keywords: new Set([...base.keywords, ...(extension.keywords ?? [])]),
    punctuation,
    statements: new Map([...base.statements, ...Object.entries(extension.statements ?? {})]),
    prefix: new Map([...base.prefix, ...Object.entries(extension.prefix ?? {})]),
    infix: new Map([...base.infix, ...Object.entries(extension.infix ?? {})]),
    assignable: widen === undefined ? baseAssignable : (target) => baseAssignable(target) || widen(target),
    types: new Map([...base.types, ...Object.entries(extension.types ?? {})]),
    declarations: new Map([...(base.declarations ?? []), ...Object.entries(extension.declarations ?? {})]),
  };
}

// @book:start core-grammar
/** The language of this chapter: the tables the core parselets are listed in. */
export const CORE_GRAMMAR: Grammar = {
  keywords: new Set<string>([...KEYWORDS, ...RESERVED]),
  punctuation: PUNCTUATION,
  statements: new Map([
    ['let', parseLet],
    ['if', parseIf],
    ['while', parseWhile],
    ['return', parseReturn],
    ['print', parsePrint],
  ]),
  prefix: new Map([
    ['int', parseIntLiteral],
    ['true', parseBoolLiteral],
    ['false', parseBoolLiteral],
    ['name', parseNameOrCall],
    ['(', parseGroup],
    ['-', parseUnary],
    ['!', parseUnary],
    ['~', parseUnary],
  ]),
  infix: new Map(
    Object.entries(BINARY_OPERATORS).map(([op, { level, associativity }]) => [op, binaryParselet(level, associativity)]),
  ),
  assignable: (target) => target.kind === 'name',
  types: new Map([['name', parseTypeName]]),
};
// @book:end core-grammar
