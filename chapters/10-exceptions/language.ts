/**
 * Chapter 10: Jot with exceptions, as a language level (chapter 06's `Language`).
 *
 * Everything chapter 10 adds, from this folder: the syntax (syntax.ts), the type and emit
 * rules with the handler table (rules.ts), the `throw` opcode with its interpreter handler
 * and the `raise` hook that unwinds (unwind.ts). The compiled tiers build their own level
 * from `EXCEPTIONS_EXTENSION` and `THROW_OPCODE`, adding a template to the opcode.
 */
import { CORE_LANGUAGE, extendLanguage, type Language, type LanguageExtension, type OpcodeDefinition } from '#ch06/language.ts';
import { EXCEPTIONS_EMIT_RULES, EXCEPTIONS_TYPE_RULES, attachHandlers } from './rules.ts';
import { EXCEPTIONS_GRAMMAR } from './syntax.ts';
import { interpretThrow, unwind } from './unwind.ts';

/**
 * `throw`: pops the payload (an int) and raises it. It never continues at the next
 * instruction; the compiler still counts the code after it, which no path reaches.
 */
export const THROW_OPCODE: OpcodeDefinition = {
  name: 'throw', code: 0x42, operands: [], pops: 1, pushes: 0,
  interpret: interpretThrow,
};

/** What chapter 10 adds to a level, except its opcodes. */
export const EXCEPTIONS_EXTENSION: Omit<LanguageExtension, 'opcodes'> = {
  grammar: EXCEPTIONS_GRAMMAR,
  types: EXCEPTIONS_TYPE_RULES,
  emit: EXCEPTIONS_EMIT_RULES,
  finish: attachHandlers,
  raise: unwind,
};

/** Jot with exceptions, for the interpreter. */
export const EXCEPTIONS_LANGUAGE: Language = extendLanguage(CORE_LANGUAGE, { ...EXCEPTIONS_EXTENSION, opcodes: [THROW_OPCODE] });
