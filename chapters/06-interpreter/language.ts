/**
 * Chapter 06: a language level, everything that makes up one version of Jot in one value.
 *
 *   grammar   what parses (chapter 05)
 *   types     type rules by node kind (checker.ts)
 *   emit      bytecode rules by node kind (compiler.ts)
 *   opcodes   the opcode set, and for each opcode a later chapter adds, its interpreter handler
 *   finish    (optional) a later chapter's last word on each compiled function (compiler.ts)
 *   raise     (optional) where a runtime error goes in the interpreter (interpreter.ts)
 *
 * `CORE_LANGUAGE` is this chapter's Jot. A later chapter builds its own level from its own
 * folder with `extendLanguage` and passes it to `compileSource` and `run`; the base level is
 * not changed, so two levels can live in one process and an earlier chapter never sees a
 * later one's language.
 */
import { CORE_GRAMMAR, extendGrammar, type Grammar, type GrammarExtension } from '#ch05/grammar.ts';
import { CORE_OPCODES, extendOpcodes, type OpcodeInfo, type OpcodeSet } from './bytecode.ts';
import { CORE_TYPE_RULES, extendTypeRules, type TypeRules } from './checker.ts';
import { CORE_EMIT_RULES, extendEmitRules, type EmitRules, type FinishRule, type PrepareRule } from './compiler.ts';
import type { InterpreterLevel, OpcodeHandler, RaiseHook } from './interpreter.ts';

export interface Language extends InterpreterLevel {
  readonly grammar: Grammar;
  readonly types: TypeRules;
  readonly emit: EmitRules;
  readonly opcodes: OpcodeSet;
  readonly handlers: ReadonlyMap<number, OpcodeHandler>;
  readonly finish?: FinishRule;
  readonly raise?: RaiseHook;
  readonly prepare?: PrepareRule;
}

/** A new opcode with what runs it in the interpreter. */
export interface OpcodeDefinition extends OpcodeInfo {
  readonly interpret: OpcodeHandler;
}

/** What a chapter adds to a level. Every part is optional. */
export interface LanguageExtension {
  readonly grammar?: GrammarExtension;
  readonly types?: Partial<TypeRules>;
  readonly emit?: Partial<EmitRules>;
  readonly opcodes?: readonly OpcodeDefinition[];
  /** Runs after base's finish rule, on what it returned. */
  readonly finish?: FinishRule;
  /** Replaces base's raise hook. */
  readonly raise?: RaiseHook;
  /** Runs after base's prepare rule, on the level it returned. */
  readonly prepare?: PrepareRule;
}

export const CORE_LANGUAGE: Language = Object.freeze({
  grammar: CORE_GRAMMAR,
  types: CORE_TYPE_RULES,
  emit: CORE_EMIT_RULES,
  opcodes: CORE_OPCODES,
  handlers: new Map<number, OpcodeHandler>(),
});

/** A new level: `base` with `extension` added. `base` is not changed. */
export function extendLanguage(base: Language, extension: LanguageExtension): Language {
  const added = extension.opcodes ?? [];
  return Object.freeze({
    grammar: extension.grammar === undefined ? base.grammar : extendGrammar(base.grammar, extension.grammar),
    types: extendTypeRules(base.types, extension.types ?? {}),
    emit: extendEmitRules(base.emit, extension.emit ?? {}),
    opcodes: extendOpcodes(base.opcodes, added.map(({ interpret: _, ...info }) => info)),
    handlers: new Map([...base.handlers, ...added.map((op): [number, OpcodeHandler] => [op.code, op.interpret])]),
    finish: chainFinish(base.finish, extension.finish),
    raise: extension.raise ?? base.raise,
    prepare: chainPrepare(base.prepare, extension.prepare),
  });
}

/** `first`, then `then` on the level it returned; either may be missing. */
function chainPrepare(first: PrepareRule | undefined, then: PrepareRule | undefined): PrepareRule | undefined {
  if (first === undefined) return then;
  if (then === undefined) return first;
  return (program, level) => then(program, first(program, level));
}

/** `first`, then `then` on its result; either may be missing. */
function chainFinish(first: FinishRule | undefined, then: FinishRule | undefined): FinishRule | undefined {
  if (first === undefined) return then;
  if (then === undefined) return first;
  return (compiler, fn) => then(compiler, first(compiler, fn));
}
