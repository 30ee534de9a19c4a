/**
 * The reference VM's modules, imported statically so that a bundler takes them in: build.mjs
 * bundles them with the conditions that point `#chNN/` at solutions/ (the direct entry).
 * Chapter 12 is named by its files, as `loadModules` names it in a variable: the typecheck
 * of chapters/ must not need a scaffold of it. A chapter that brings a new language level or
 * tier adds its modules here.
 */
import { parse } from '#ch05/parser.ts';
import { CompileError } from '#ch05/errors.ts';
import { compileSource } from '#ch06/compiler.ts';
import { run, RuntimeError } from '#ch06/interpreter.ts';
import { listFunction, listProgram } from '#ch06/listing.ts';
import { compileProgram } from '#ch07/jit.ts';
import { printFunction } from '#ch08/printer.ts';
import { compileOptimized } from '#ch09/jit.ts';
import { Heap } from '#ch11/heap.ts';
import { useHeap } from '#ch11/jit-level.ts';
import { HEAP_JIT } from '#ch11/jit-run.ts';
import { heapInterpreter } from '#ch11/language.ts';
import { formatStats, parseHeapOptions } from '#ch11/run.ts';
import { formatTrace } from '#ch10/trace.ts';
import { TieredHeap, TieredVM } from '../solutions/12-tiers-and-tools/vm.ts';
import { loadDisassembler } from './lazy-disasm.ts';
import type { VmModules } from './vm.ts';

export const REFERENCE_VM: VmModules = {
  parse,
  CompileError,
  compileSource,
  interpret: run,
  RuntimeError,
  listProgram,
  listFunction,
  compileProgram,
  compileOptimized,
  printFunction,
  language: HEAP_JIT,
  heap: { Heap, heapInterpreter, useHeap, parseHeapOptions, formatStats },
  tiered: { TieredVM, TieredHeap, formatTrace },
  // In the bundle, lazy-disasm.ts stands in for native/disasm.ts: capstone loads when needed.
  loadDisassembler,
};
