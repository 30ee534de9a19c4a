/**
 * Chapter 10: the runtime's side of exceptions in compiled code, for one run.
 *
 * `openRun` (the level's `beforeRun`) registers `jot_throw`, the callback the throw stub
 * calls, and clears the entry record; `closeRun` (the level's `afterRun`) unregisters it and
 * turns an exception that reached the entry record into the run's error. The callback only
 * computes: it walks the frames (unwinder.ts), writes the resume state into the context and
 * returns. Any JavaScript exception inside it is kept and rethrown by the run after the
 * machine code has returned, never thrown through machine frames.
 */
import koffi from 'koffi';
import type { CodeRegion } from '#ch01/code-region.ts';
import { createMacroAssembler } from '#ch04/masm.ts';
import type { RunState } from '#ch07/compiler.ts';
import type { JitProgram } from '#ch07/jit.ts';
import { RuntimeError } from '#ch06/interpreter.ts';
import { ThrownException, UncaughtException } from './errors.ts';
import type { TraceFrame } from './trace.ts';
import { EX, unwindTable } from './stubs.ts';
import { ContextWords, pageReader, setResume, unwind, type UnwindResult } from './unwinder.ts';

const throwType = koffi.pointer(koffi.proto('void jot_throw(int64_t payload, int64_t pc, int64_t kind)'));

/** An exception that reached the entry record: what the run ends with. */
export interface Uncaught {
  readonly payload: bigint;
  /** Chapter 07's runtime error kind, or undefined for a `throw` statement. */
  readonly kind: number | undefined;
  readonly trace: readonly TraceFrame[];
}

/** The state of the run in progress, per program. */
interface RunRecord {
  handle: bigint;
  uncaught: Uncaught | undefined;
  /** How many throws the unwinder handled, and frames it removed in all. */
  throws: number;
  frames: number;
}

const runs = new WeakMap<JitProgram, RunRecord>();

function toBigInt(value: number | bigint): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}

function writeWord(context: CodeRegion, offset: number, value: bigint): void {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  context.write(offset, bytes);
}

/** The trace of an uncaught exception from the frames the unwinder walked. */
function traceOf(result: UnwindResult, program: JitProgram, limit: boolean): TraceFrame[] {
  const frames = result.frames.map((f) => ({ name: program.program.functions[f.fn.index]?.name ?? f.fn.name, line: f.line }));
  // The stack limit trips in a prologue: report it, like the call-depth limit, at the call.
  return limit && frames.length > 1 ? frames.slice(1) : frames;
}

// @book:start open-run
export function openRun(context: CodeRegion, run: RunState): void {
  const record: RunRecord = { handle: 0n, uncaught: undefined, throws: 0, frames: 0 };
  const table = unwindTable(run.program.tables);
  const calleeSaved = createMacroAssembler(run.program.arch).regs.calleeSaved;
  record.handle = koffi.register((payloadIn: number | bigint, pcIn: number | bigint, kindIn: number | bigint) => {
    run.runtime.callbacks++;
    const payload = toBigInt(payloadIn);
    const kind = Number(kindIn);
    let result: UnwindResult;
    const words = new ContextWords(context);
    try {
      const machine = { base: run.code.address, entryRecord: words.get(EX.entryRecord!), read: pageReader() };
      result = unwind(table, machine, toBigInt(pcIn), words.get(EX.exitFp!));
      record.throws++;
      record.frames += result.removed;
      if (!result.caught) {
        const limit = table.functionAt(Number(toBigInt(pcIn) - run.code.address))?.siteAt(Number(toBigInt(pcIn) - run.code.address))?.kind === 'limit';
        record.uncaught = { payload, kind: kind === 0 ? undefined : kind - 1, trace: traceOf(result, run.program, limit) };
      }
    } catch (error) {
      // A broken table or frame chain: end the run at the entry record, and report it after.
      run.runtime.hostError ??= error;
      const entryRecord = words.get(EX.entryRecord!);
      result = { frames: [], caught: false, sp: entryRecord - BigInt(table.entry!.frameSize), fp: entryRecord, pc: run.code.address + BigInt(table.entry!.pending.offset!), removed: 0, restore: new Map() };
    }
    setResume(words, calleeSaved, result, payload);
    words.flush();
  }, throwType);
  runs.set(run.program, record);
  writeWord(context, EX.throw!, record.handle);
  writeWord(context, EX.entryRecord!, 0n);
  writeWord(context, EX.stackLimit!, 0n);
}
// @book:end open-run

export function closeRun(_context: CodeRegion, run: RunState): void {
  const record = runs.get(run.program);
  if (record === undefined) return;
  koffi.unregister(record.handle);
  const uncaught = record.uncaught;
  if (uncaught !== undefined && run.runtime.error === undefined) {
    const top = uncaught.trace[0] ?? { name: '?', line: 0 };
    const error = uncaught.kind === undefined
      ? new ThrownException(uncaught.payload, top.line)
      : new RuntimeError(run.program.level.errors.get(uncaught.kind)?.(top.name) ?? `runtime error ${uncaught.kind} in ${top.name}`, top.line);
    run.runtime.error = new UncaughtException(error, uncaught.payload, uncaught.trace);
  }
}

/** What the last run of `program` ended with, if an exception reached the entry record. */
export function uncaughtOf(program: JitProgram): Uncaught | undefined {
  return runs.get(program)?.uncaught;
}

/** How many throws the last run of `program` unwound, and how many frames they removed. */
export function throwStats(program: JitProgram): { readonly throws: number; readonly frames: number } {
  const record = runs.get(program);
  return { throws: record?.throws ?? 0, frames: record?.frames ?? 0 };
}
