/**
 * Replaying the GNU as vectors (vectors/*.json, written by vectors/generate.ts) against
 * the learner's encoders. Shared by 1-x64.check.ts and 2-arm64.check.ts.
 *
 * Each vector's bytes are reported to the runner (check.ts reportOutcome, under vectorName),
 * which, when work is graded, compares them with its own copy of the vectors
 * (checks/harness/verdicts.ts). In the copy staged beside graded code the vectors' bytes and
 * GNU as's text are blanked (`bytes: ""`, `asm: ""`): replay then only reports, and the
 * runner judges.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { Arch } from '#native/arch.ts';
import { reportOutcome } from '#harness/check.ts';
import { expectBytes, toBytes, type Code } from '#harness/expect.ts';
import { NotImplemented } from '#native/todo.ts';

export type Arg = number | string | { base: number; index: number | null; scale: number; disp: number };

export interface Vector {
  group: string;
  call: string;
  args: Arg[];
  asm: string;
  bytes: string;
}

export function loadVectors(arch: Arch): Vector[] {
  return JSON.parse(readFileSync(new URL(`./vectors/${arch}.json`, import.meta.url), 'utf8')) as Vector[];
}

/** The vectors of `arch` in the copy of the workbook at `root` (empty if it has none). */
export function vectorsIn(root: string, arch: Arch): Vector[] {
  const file = join(root, 'checks', '03-encoders', 'vectors', `${arch}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Vector[]) : [];
}

/**
 * The name a vector's bytes are reported under: the architecture and the call (not GNU as's
 * text, which the staged copy blanks too: code under test could hand it to an assembler).
 */
export function vectorName(arch: Arch, v: Vector): string {
  return `${arch} vector ${v.call}(${v.args.map(argText).join(', ')})`;
}

/** Bytes as lower-case hex without separators (the vectors' form), or undefined if `code` is not bytes. */
export function bytesText(code: unknown): string | undefined {
  try {
    return Buffer.from(toBytes(code as Code)).toString('hex');
  } catch {
    return undefined;
  }
}

export function vectorsOf(all: readonly Vector[], group: string): Vector[] {
  const chosen = all.filter((v) => v.group === group);
  if (chosen.length === 0) throw new Error(`no vectors in group '${group}': regenerate checks/03-encoders/vectors`);
  return chosen;
}

type Encoder = (...args: unknown[]) => unknown;

/** uvu's assert.unreachable, typed as not returning. */
function fail(message: string): never {
  assert.unreachable(message);
  throw new Error(message);
}

/** The module's exports, looked up by name (the vectors name the encoder to call). */
function encoderOf(module: object, name: string, file: string): Encoder {
  const fn = (module as Record<string, unknown>)[name];
  if (typeof fn !== 'function') fail(`${file} does not export a function named ${name}`);
  return fn as Encoder;
}

const X64_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function argText(arg: Arg): string {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'number') return String(arg);
  const base = X64_NAMES[arg.base] ?? String(arg.base);
  if (arg.index === null) return `mem(${base}, ${arg.disp})`;
  return `mem(${base}, ${X64_NAMES[arg.index] ?? arg.index}, ${arg.scale}, ${arg.disp})`;
}

/**
 * Calls the encoder each vector names and compares with GNU as; fails on the first
 * mismatch. `mem` is the learner module's memory-operand constructor (x86-64 only).
 */
export function replay(module: object, file: string, arch: Arch, vectors: readonly Vector[]): void {
  const mem = arch === 'x64' ? encoderOf(module, 'mem', file) : undefined;
  const decode = (arg: Arg): unknown => {
    if (typeof arg === 'string') return BigInt(arg.slice(0, -1));
    if (typeof arg === 'object') return arg.index === null ? mem!(arg.base, arg.disp) : mem!(arg.base, arg.index, arg.scale, arg.disp);
    return arg;
  };
  // Encoders still TODO are skipped, so a family reports how far along it is; a wrong
  // encoding fails at once.
  const missing = new Set<string>();
  let matched = 0;
  for (const v of vectors) {
    const encode = encoderOf(module, v.call, file);
    const what = `${v.call}(${v.args.map(argText).join(', ')})${v.asm ? `  →  ${v.asm}` : ''}`;
    let actual: unknown;
    try {
      actual = encode(...v.args.map(decode));
    } catch (error) {
      if (error instanceof RangeError) fail(`${what}: threw a RangeError, but GNU as encodes it as ${v.bytes}: ${error.message}`);
      if (error instanceof NotImplemented) {
        missing.add(error.what);
        continue;
      }
      throw error;
    }
    const produced = bytesText(actual);
    if (produced !== undefined) reportOutcome(vectorName(arch, v), { output: [produced] });
    // Blanked bytes (a copy staged for grading): the runner compares what was reported.
    if (v.bytes !== '' || produced === undefined) expectBytes(actual as Code, v.bytes, arch, what);
    matched++;
  }
  if (missing.size > 0) {
    const names = [...missing];
    const more = names.length > 1 ? ` (and ${names.slice(1).join(', ')})` : '';
    throw new NotImplemented(`${names[0]}${more}`, `so far ${matched} of ${vectors.length} vectors of this family match GNU as`);
  }
}

/** One case of an out-of-range operand: the RangeError must name the instruction and the field. */
export interface RangeCase {
  /** What is encoded, for the failure message. */
  text: string;
  run: () => unknown;
  /** Words the message must contain (case-insensitive): the mnemonic and the field. */
  mentions: readonly string[];
}

/**
 * Asserts that each case throws a RangeError naming what it must, and reports for each what
 * was thrown and which of the required words its message holds (never the wording), for the
 * runner to hold to the reference's.
 */
export function expectRangeErrors(cases: readonly RangeCase[], thrownBy: (action: () => unknown) => unknown): void {
  for (const c of cases) {
    const error = thrownBy(c.run);
    const message = error instanceof Error ? error.message.toLowerCase() : '';
    const named = c.mentions.filter((word) => mentionPattern(word).test(message));
    const thrown = error === undefined ? 'nothing thrown' : error instanceof RangeError ? 'RangeError' : 'another error';
    reportOutcome(`refuses ${c.text}`, { output: [thrown, `names ${named.join(', ') || 'none'} of ${c.mentions.join(', ')}`] });
    if (error === undefined) fail(`${c.text}: returned bytes instead of throwing a RangeError (the operand does not fit)`);
    if (!(error instanceof RangeError)) {
      fail(`${c.text}: threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}, expected a RangeError`);
    }
    for (const word of c.mentions) {
      if (!named.includes(word)) {
        fail(`${c.text}: the RangeError says "${error.message}", which does not mention '${word}' (name the instruction and the field)`);
      }
    }
  }
}

/** Matches `word` as a whole word in a lower-cased message. */
function mentionPattern(word: string): RegExp {
  return new RegExp(`(^|[^a-z0-9])${word.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9]|$)`);
}
