/**
 * Chapter 07: a language level for every tier so far, the interpreter's (chapter 06) and the
 * template compiler's together, so that one value says what a version of Jot is and how
 * each tier runs it.
 *
 * A later chapter defines each opcode it adds once, with everything about it: its operands
 * and stack effect, its interpreter handler and its template. It changes existing machine
 * code only through the named hooks of `JitLevel` (`prologue`, `afterCall`) or by giving a
 * core opcode a template of its own.
 */
import { CORE_LANGUAGE, extendLanguage, type Language, type LanguageExtension, type OpcodeDefinition } from '#ch06/language.ts';
import { CORE_JIT, extendJit, type JitExtension, type JitLevel, type Template } from './compiler.ts';

// @book:start jit-language
export interface JitLanguage extends Language {
  readonly jit: JitLevel;
}

/** A new opcode with what runs it in each tier. */
export interface JitOpcodeDefinition extends OpcodeDefinition {
  readonly template: Template;
}

export interface JitLanguageExtension extends Omit<LanguageExtension, 'opcodes'> {
  readonly opcodes?: readonly JitOpcodeDefinition[];
  /** Hooks, replaced templates of existing opcodes, context fields and runtime errors. */
  readonly jit?: Omit<JitExtension, 'opcodes'>;
}

export const CORE_JIT_LANGUAGE: JitLanguage = Object.freeze({ ...CORE_LANGUAGE, jit: CORE_JIT });

/** A new level: `base` with `extension` added, in every tier. `base` is not changed. */
export function extendJitLanguage(base: JitLanguage, extension: JitLanguageExtension): JitLanguage {
  const added = extension.opcodes ?? [];
  const language = extendLanguage(base, { ...extension, opcodes: added });
  const templates = new Map<number, Template>([
    ...(extension.jit?.templates ?? []),
    ...added.map((op): [number, Template] => [op.code, op.template]),
  ]);
  return Object.freeze({ ...language, jit: extendJit(base.jit, { ...extension.jit, opcodes: language.opcodes, templates }) });
}
// @book:end jit-language
