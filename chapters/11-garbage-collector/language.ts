/**
 * Chapter 11: Jot with arrays on a garbage-collected heap, as a language level.
 *
 * The front end is one value, `HEAP_LANGUAGE` (chapter 10's exceptions plus arrays and records). The
 * interpreter needs a heap for each run: `heapInterpreter(heap)` is the level to run with,
 * whose array opcodes allocate on that heap and whose frames are its roots. The compiled
 * tiers' level is `HEAP_JIT` (jit-run.ts, with the templates of jit-level.ts).
 */
import { extendInterpreter, type InterpreterLevel, type OpcodeHandler } from '#ch06/interpreter.ts';
import { extendLanguage, type Language } from '#ch06/language.ts';
import { EXCEPTIONS_LANGUAGE } from '#ch10/language.ts';
import { collect } from './collector.ts';
import type { Heap } from './heap.ts';
import { ARRAY_OPCODES, RECORD_OPCODES, arrayHandlers, recordHandlers } from './interpret.ts';
import { prepareRecords } from './records.ts';
import { HEAP_EMIT_RULES, heapTypeRules } from './rules.ts';
import { HEAP_GRAMMAR } from './syntax.ts';

/** Jot with exceptions, arrays and records. */
export const HEAP_LANGUAGE: Language = extendLanguage(EXCEPTIONS_LANGUAGE, {
  grammar: HEAP_GRAMMAR,
  types: heapTypeRules(() => HEAP_LANGUAGE.types),
  emit: HEAP_EMIT_RULES,
  opcodes: [...ARRAY_OPCODES, ...RECORD_OPCODES],
  prepare: prepareRecords,
});

/** The interpreter level for one run on `heap` (the Cheney collector is installed on it). */
export function heapInterpreter(heap: Heap): InterpreterLevel {
  heap.collector = collect;
  const byName = new Map([...arrayHandlers(heap), ...recordHandlers(heap)]);
  const handlers = new Map<number, OpcodeHandler>();
  for (const [name, handler] of byName) handlers.set(HEAP_LANGUAGE.opcodes.byName.get(name)!.code, handler);
  return extendInterpreter(HEAP_LANGUAGE, HEAP_LANGUAGE.opcodes, handlers);
}
