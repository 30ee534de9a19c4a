/**
 * Turns what happened in a worker into words a learner can act on: which status a thrown
 * error means, and for a crash or a hang, which signal, where in the generated code, and
 * the instructions around that spot.
 */
import type { Arch } from '#native/arch.ts';
import { disassemble, hex } from '#native/disasm.ts';
import { CHAPTERS, type Chapter } from '../manifest.ts';
import type { CrashDump } from './crash-handler.ts';
import { firstChapterFrame, type ChapterFrame } from './frames.ts';
import type { CheckResult, SerializedError } from './protocol.ts';

/** A copy of one executable range, taken when it was made executable. */
export interface CodeSnapshot {
  address: bigint;
  bytes: Uint8Array;
}

type Classified = Pick<CheckResult, 'status' | 'message'> & Partial<Pick<CheckResult, 'details' | 'fromChapter' | 'hint'>>;

function titleOf(number: string): string {
  return CHAPTERS.find((c) => c.number === number)?.title.toLowerCase() ?? `chapter ${number}`;
}

/**
 * Errors an earlier chapter's code throws on purpose, to refuse a call it must not make
 * (writing to a sealed region, a size that is not a size): the caller is wrong, not the callee.
 */
const REFUSALS = new Set(['RegionStateError', 'RangeError']);

const REFUSAL_HINT: Record<string, string> = {
  RegionStateError:
    'The message names the state the region was in and the one the call needs. A region goes writable → (write) → seal() → executable → function(): which step before this call is missing?',
  RangeError: 'A size or an offset your code passed does not fit. Print what you pass just before the call and compare it with the region\'s size.',
};

/** The first frame of `stack` in chapter `number`'s code (the learner's or the reference's). */
function frameOfChapter(stack: string, number: string): ChapterFrame | undefined {
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const frame = firstChapterFrame(`\n${lines[i]}`);
    if (frame?.chapter === number) return frame;
  }
  return undefined;
}

/** The frame without the temporary folder the checks ran in: `makeAdder (chapters/02-…/add-four.ts:104:10)`. */
function shortFrame(frame: ChapterFrame): string {
  const name = /^(.*?) \(/.exec(frame.frame)?.[1];
  return name ? `${name} (${frame.location})` : frame.location;
}

/** pass, todo (the chapter's own TODO was reached) or fail, and whose code failed. */
export function classifyError(error: SerializedError | undefined, chapter: Chapter): Classified {
  if (!error) return { status: 'pass', message: '' };
  const origin = firstChapterFrame(error.stack);
  const inEarlier = origin && origin.chapter < chapter.number ? origin : undefined;
  const caller = inEarlier ? frameOfChapter(error.stack, chapter.number) : undefined;
  // The earlier chapter's code refused this chapter's call, or it is the reference (which is
  // not the learner's to fix): the call in this chapter is what is wrong.
  if (inEarlier && caller && (REFUSALS.has(error.name) || inEarlier.location.startsWith('solutions'))) {
    const refused = REFUSALS.has(error.name) ? 'refused a call' : 'failed on a call';
    return {
      status: 'fail',
      message: `${error.name}: ${error.message}`,
      details:
        `Chapter ${inEarlier.chapter}'s code (${titleOf(inEarlier.chapter)}) ${refused} from your chapter ${chapter.number} code, at ${shortFrame(caller)}.\n` +
        `Look at what your chapter ${chapter.number} code does before that call: what does it leave out, or pass wrongly?` +
        (inEarlier.location.startsWith('chapters')
          ? `\n(Sure the call is right? Compare with the reference chapter ${inEarlier.chapter}: add --use-ref ${Number(inEarlier.chapter)}, and the same refusal means the call is wrong.)`
          : ''),
      // The refusal hints speak of chapter 01's regions; another chapter's refusal (an encoder
      // refusing an immediate) is better explained by the check's own ladder.
      ...(REFUSALS.has(error.name) && inEarlier.chapter !== '01'
        ? {}
        : { hint: REFUSAL_HINT[error.name] ?? `Read the call at ${caller.location} against what chapter ${inEarlier.chapter}'s code expects of it.` }),
    };
  }
  // The reference of an earlier chapter is not at fault: what this chapter built or set up is
  // (a function made with the wrong arity, a region used in the wrong state).
  const fromReference = inEarlier?.location.startsWith('solutions') ? inEarlier : undefined;
  const earlier = fromReference ? undefined : inEarlier?.chapter;
  if (error.name === 'NotImplemented' && !earlier) {
    return { status: 'todo', message: `${error.what ?? error.message} is not written yet${error.note ? ` (${error.note})` : ''}` };
  }
  const message = error.name === 'Assertion' || error.name === 'AssertionError' ? error.message : `${error.name}: ${error.message}`;
  const detailParts = [error.details === undefined ? undefined : gitStyleDiff(error.details).trim()];
  if (earlier) {
    detailParts.push(
      `This failure comes from your chapter ${earlier} code (${titleOf(earlier)}), at ${shortFrame(origin!)}.\n` +
        `Fix it there, or lean on the reference for that chapter: add --use-ref ${Number(earlier)} to the command.`,
    );
  } else if (fromReference) {
    detailParts.push(
      `Chapter ${fromReference.chapter}'s reference code (${titleOf(fromReference.chapter)}) raised this, at ${shortFrame(fromReference)}: it is not at fault.\n` +
        `Your chapter ${chapter.number} code built or set up what it was given: look at what it passes on (a function's arity, a region's state, a size).`,
    );
  } else if (!error.details && error.name !== 'Assertion') {
    detailParts.push(stackExcerpt(error.stack));
  }
  return {
    status: 'fail',
    message,
    details: detailParts.filter(Boolean).join('\n\n'),
    ...(earlier ? { fromChapter: earlier } : {}),
  };
}

/**
 * uvu's assertion diff (`++expected (Expected)`, `--actual (Actual)`) in the notation git and
 * Node.js use: a legend, then `-` before what was expected and `+` before what was found.
 * Other text is returned as it is.
 */
export function gitStyleDiff(details: string): string {
  const lines = details.split('\n');
  if (!lines.some((line) => /^(\+\+|--)/.test(line))) return details;
  const body = lines
    .filter((line) => !/^(Actual|Expected):$/.test(line))
    .map((line) => {
      if (line.startsWith('++')) return `- ${line.slice(2).replace(/\s+\(Expected\)$/, '')}`;
      if (line.startsWith('--')) return `+ ${line.slice(2).replace(/\s+\(Actual\)$/, '')}`;
      if (line.startsWith('··')) return `  ${line.slice(2)}`;
      return line;
    });
  // Expected before actual, as in `- expected` / `+ actual`.
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i]!.startsWith('+ ') && body[i + 1]!.startsWith('- ')) [body[i], body[i + 1]] = [body[i + 1]!, body[i]!];
  }
  return ['diff (- expected, + actual):', ...body].join('\n');
}

/** The stack frames that are the learner's or the checks', without Node's internals. */
function stackExcerpt(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .filter((l) => /^\s+at /.test(l) && !/node:|node_modules|checks[\\/]harness/.test(l))
    .slice(0, 6);
  return frames.length ? `stack:\n${frames.join('\n')}` : '';
}

const SIGNAL_NUMBERS: Record<number, NodeJS.Signals> = { 4: 'SIGILL', 5: 'SIGTRAP', 7: 'SIGBUS', 8: 'SIGFPE', 11: 'SIGSEGV', 12: 'SIGUSR2' };

const SIGNAL_MEANING: Partial<Record<NodeJS.Signals, string>> = {
  SIGSEGV: 'segmentation fault: the code touched memory it may not (unmapped, or not executable)',
  SIGILL: 'illegal instruction: the processor met bytes that are not a valid instruction (ud2, udf, or a wrong encoding)',
  SIGBUS: 'bus error: a misaligned or impossible memory access',
  SIGFPE: 'arithmetic fault: on x86-64, idiv by zero or INT64_MIN / -1',
  SIGTRAP: 'trap: an int3 or brk instruction',
  SIGKILL: 'killed',
};

function formatAddress(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** Where `pc` is: an offset in a code region, with the instructions around it. */
function locate(pc: bigint, code: CodeSnapshot[], arch: Arch): { where: string; listing: string } | undefined {
  // Newest first: a region reused after patching shows its latest bytes.
  for (const region of [...code].reverse()) {
    const offset = pc - region.address;
    if (offset < 0n || offset >= BigInt(region.bytes.length)) continue;
    const used = trimTrailingZeros(region.bytes, Number(offset) + 1, arch);
    // Disassembled at address 0, so branch targets read as offsets in the region (jg 0x8 = +0008).
    const instructions = disassemble(used, arch, 0);
    const at = instructions.findIndex((i) => i.offset <= Number(offset) && Number(offset) < i.offset + i.bytes.length);
    const window = instructions.slice(Math.max(0, at - 6), at + 4);
    const width = Math.max(...window.map((i) => hex(i.bytes).length));
    const listing = window
      .map((i) => `${i.offset === instructions[at]?.offset ? '  ▶ ' : '    '}+${i.offset.toString(16).padStart(4, '0')}  ${hex(i.bytes).padEnd(width)}  ${i.text}`)
      .join('\n');
    return { where: `at offset 0x${offset.toString(16)} in the generated code (region ${formatAddress(region.address)})`, listing };
  }
  return undefined;
}

/** The part of a region that holds code: up to the last non-zero byte, and at least `minimum`. */
function trimTrailingZeros(bytes: Uint8Array, minimum: number, arch: Arch): Uint8Array {
  let end = bytes.length;
  while (end > minimum && bytes[end - 1] === 0) end--;
  const wordAligned = arch === 'arm64' ? Math.ceil(end / 4) * 4 : end;
  return bytes.subarray(0, Math.min(bytes.length, wordAligned));
}

function registersLine(dump: CrashDump, arch: Arch): string {
  const names = arch === 'x64' ? ['rax', 'rdi', 'rsi', 'rdx', 'rcx', 'rsp', 'rbp'] : ['x0', 'x1', 'x2', 'x3', 'x29', 'x30', 'sp'];
  return `registers: ${names.map((n) => `${n}=${formatAddress(dump.registers[n] ?? 0n)}`).join(' ')}`;
}

/** The words of an AArch64 region that are no instruction as stored, but are one with their bytes reversed. */
function byteReversedWords(code: CodeSnapshot[], pc: bigint): { stored: string; meant: string }[] {
  const region = [...code].reverse().find((r) => pc >= r.address && pc < r.address + BigInt(r.bytes.length));
  if (!region) return [];
  const used = trimTrailingZeros(region.bytes, 4, 'arm64');
  const found: { stored: string; meant: string }[] = [];
  for (let at = 0; at + 4 <= used.length; at += 4) {
    const bytes = used.subarray(at, at + 4);
    const asStored = disassemble(bytes, 'arm64')[0];
    const reversed = Uint8Array.from(bytes).reverse();
    const asReversed = disassemble(reversed, 'arm64')[0];
    const valid = (line: typeof asStored) => line !== undefined && line.mnemonic !== '.inst' && line.mnemonic !== 'udf';
    const stored = hex(bytes);
    if (valid(asReversed) && (!valid(asStored) || asReversed!.mnemonic === 'ret')) {
      found.push({ stored, meant: `${hex(reversed)} (${asReversed!.text})` });
    }
  }
  // One lucky word proves nothing; most of the code reading right backwards does.
  return found.length * 2 >= used.length / 4 ? found : [];
}

/** The sentence a crash report puts first when the code's AArch64 words are stored byte-reversed. */
export const BYTE_REVERSED = 'the instruction words are stored byte-reversed';

/** Linux maps nothing below this address (vm.mmap_min_addr): a jump to 0 is a null pointer, not a region. */
const LOWEST_MAPPABLE = 0x10000n;

/** The sentence a crash report puts first when code was called in pages that were never made executable. */
export const NOTHING_EXECUTABLE = 'the code was called in pages that are not executable';

function whereText(dump: CrashDump, code: CodeSnapshot[], arch: Arch): { where: string; details: string[] } {
  const located = locate(dump.pc, code, arch);
  const details: string[] = [];
  let where: string;
  if (located) {
    where = located.where;
    const reversed = arch === 'arm64' ? byteReversedWords(code, dump.pc) : [];
    if (reversed.length > 0) {
      where += `: ${BYTE_REVERSED}`;
      details.push(
        `AArch64 reads each 32-bit instruction least significant byte first. Read backwards, the bytes are instructions:\n` +
          reversed.map((word) => `  ${word.stored}  →  ${word.meant}`).join('\n'),
      );
    }
    details.push(located.listing);
  } else if (dump.pc === dump.faultAddress && dump.pc % 4096n === 0n && dump.pc >= LOWEST_MAPPABLE) {
    // Fetching the first instruction of a page faulted, and no code made executable during
    // the check is there: a call to the start of a region that was never sealed. (Below
    // LOWEST_MAPPABLE nothing is ever mapped: a jump there is a wild jump, not a forgotten seal.)
    where = `at pc ${formatAddress(dump.pc)}: ${NOTHING_EXECUTABLE}`;
    details.push(
      `fetching the instruction at the start of the page at ${formatAddress(dump.pc)} faulted, and no code was made executable there during this check:` +
        ' was the region sealed (mprotect to read+execute) before the call?',
    );
  } else {
    where = `at pc ${formatAddress(dump.pc)}, outside the generated code`;
    const linkRegister = arch === 'arm64' ? dump.registers.x30 : undefined;
    const caller = linkRegister !== undefined ? locate(linkRegister, code, arch) : undefined;
    if (caller) {
      details.push(`the link register x30 points ${caller.where}: the code branched from there to a bad address`);
      details.push(caller.listing);
    } else if (code.length === 0) {
      details.push('no code had been made executable during this check: the crash is in TypeScript or native code, not in generated code');
    } else {
      details.push('did the code jump or return to a bad address, or pass a bad pointer to a call?');
    }
  }
  details.push(registersLine(dump, arch));
  return { where, details };
}

export function describeCrash(
  signal: NodeJS.Signals | null,
  exitCode: number | null,
  dump: CrashDump | null,
  code: CodeSnapshot[],
  arch: Arch,
): { message: string; details: string } {
  const name = signal ?? (dump ? SIGNAL_NUMBERS[dump.signal] : undefined);
  if (!name) {
    return {
      message: `the process exited (code ${exitCode}) in the middle of this check`,
      details: 'Something called process.exit() or the runtime aborted.',
    };
  }
  const meaning = SIGNAL_MEANING[name] ?? name;
  if (!dump) {
    return { message: `crashed with ${name} (${meaning})`, details: 'The crash handler left no report, so the location is unknown.' };
  }
  const stackOverflow = name === 'SIGSEGV' && absDiff(dump.faultAddress, dump.sp) < 256n * 1024n && !locate(dump.faultAddress, code, arch);
  const { where, details } = whereText(dump, code, arch);
  const what = stackOverflow ? `${name} (stack overflow: the code kept pushing or recursing past the end of the stack)` : `${name} (${meaning})`;
  if (name === 'SIGSEGV' || name === 'SIGBUS') details.unshift(`fault address ${formatAddress(dump.faultAddress)}`);
  if (where.endsWith(NOTHING_EXECUTABLE)) return { message: `${NOTHING_EXECUTABLE}: the process crashed with ${what} ${where.replace(`: ${NOTHING_EXECUTABLE}`, '')}`, details: details.join('\n') };
  return { message: `crashed with ${what} ${where}`, details: details.join('\n') };
}

/** A check that used up its time limit: `limitMs` of the worker's CPU time (see runner.ts), or far more wall-clock time. */
export function describeHang(limitMs: number, dump: CrashDump | null, code: CodeSnapshot[], arch: Arch): { message: string; details: string } {
  const seconds = `${(limitMs / 1000).toFixed(1)} s of CPU time`;
  if (!dump) return { message: `timed out after ${seconds} (and did not answer where it was)`, details: '' };
  const located = locate(dump.pc, code, arch);
  if (!located) {
    return {
      message: `timed out after ${seconds}, in TypeScript or Node.js code rather than in generated code`,
      details: 'An endless loop in your TypeScript? (The program counter was outside every generated code region.)',
    };
  }
  return {
    message: `timed out after ${seconds}, looping ${located.where}`,
    details: `${located.listing}\n${registersLine(dump, arch)}\nAn endless loop: does a branch jump to the wrong place, or does its condition never change?`,
  };
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

/**
 * SyntaxErrors that running code throws, not parsing: a string BigInt() or JSON.parse cannot
 * read, a pattern RegExp() cannot compile. The file parsed; the code that ran is wrong.
 */
const RUNTIME_SYNTAX_ERROR = /SyntaxError: (?:Cannot convert .* to a BigInt|.*\bJSON\b|Invalid regular expression)/;

/** True when the learner's file did not load (a syntax error): no check of the chapter could run. */
export function isLoadFailure(result: Pick<CheckResult, 'status' | 'message' | 'details' | 'check'>): boolean {
  const text = `${result.message}\n${result.details ?? ''}`;
  if (result.status !== 'fail') return false;
  if (/LearnerCodeLoadError|your code could not be loaded/.test(text) || / loads$/.test(result.check)) return true;
  return /SyntaxError/.test(text) && !RUNTIME_SYNTAX_ERROR.test(text);
}

/**
 * The hint that fits this failure better than the first rung of its check's ladder, if any:
 * a file that does not parse, code stored byte-reversed, a jump into memory never made
 * executable, a function called with another number of arguments than it was made for. The
 * check report shows it instead of the first rung.
 */
export function failureHint(result: Pick<CheckResult, 'status' | 'message' | 'details' | 'check'>): string | undefined {
  if (result.status !== 'fail') return undefined;
  const text = `${result.message}\n${result.details ?? ''}`;
  if (isLoadFailure(result)) {
    return 'Fix the syntax first: no check of the chapter can run until the file parses. Go to the file:line:column above (the caret marks the spot); npm run typecheck lists every error at once.';
  }
  if (text.includes(BYTE_REVERSED)) {
    return 'Byte order: AArch64 fetches each 32-bit word least significant byte first, so 0x91001000 must be stored as 00 10 00 91. Build words as numbers and store them with littleEndianWords, not as their hex digits in reading order.';
  }
  if (text.includes(NOTHING_EXECUTABLE)) {
    return 'The code was called while its pages were still read+write: sealing must mprotect the region to read+execute (and check that mprotect returned 0) before anything jumps into it.';
  }
  const arity = /expected (\d+) argument\(s\), got (\d+)/.exec(text);
  if (arity) {
    return `A function made for ${arity[1]} argument(s) was called with ${arity[2]}: the arity given to region.function(offset, arity) is the number of arguments the generated code takes, which is what its callers pass.`;
  }
  return undefined;
}

const ARCH_WORDS: Record<Arch, RegExp> = { x64: /\b(?:x86-64|x64)\b/, arm64: /\b(?:AArch64|arm64)\b/ };

/**
 * The rung of a check's ladder to show first under a failure: the ladder's first rung, unless
 * the ladder covers several things and another rung is about the one that failed:
 *   - in a check named for several instructions, the rung that names the one the failure's
 *     message starts with (`cmovcc_rr(0, 0, 1) → …` under "… imul … and cmovcc …": the rung
 *     about cmovcc, not the first, about imul);
 *   - on one architecture, a first rung written for the other one (it starts with its name)
 *     gives way to the first rung that names this one.
 */
export function fittingRung(hints: readonly string[], message: string, arch: Arch, checkName = ''): string | undefined {
  const first = hints[0];
  if (first === undefined) return undefined;
  // The instruction an encoder is named for: movabsq_ri → movabs, cmovcc_rr → cmovcc.
  const called = /^([A-Za-z][A-Za-z0-9]*?)q?(?:_[a-z0-9]+)*\(/.exec(message)?.[1];
  const namedForSeveral = /\band\b|\//.test(checkName);
  if (called && called.length >= 3 && namedForSeveral && new RegExp(`\\b${called}`).test(checkName)) {
    const names = new RegExp(`\\b${called}`);
    if (!names.test(first)) {
      const about = hints.find((h) => names.test(h));
      if (about) return about;
    }
  }
  const other: Arch = arch === 'x64' ? 'arm64' : 'x64';
  if (new RegExp(`^(?:On )?${ARCH_WORDS[other].source}`).test(first)) return hints.find((h) => ARCH_WORDS[arch].test(h)) ?? first;
  return first;
}

/** What explains a failure, when one cause may explain many: a key and the sentence that says it. */
export function causeOf(result: Pick<CheckResult, 'status' | 'message' | 'details' | 'fromChapter'>): { key: string; text: string } | undefined {
  if (result.status !== 'fail') return undefined;
  const text = `${result.message}\n${result.details ?? ''}`;
  if (text.includes(NOTHING_EXECUTABLE) || /shows rw-\S* \(expected r-x/.test(text)) {
    return { key: 'not-executable', text: 'code is called from pages that were never made executable (seal() should mprotect them to read+execute)' };
  }
  if (text.includes(BYTE_REVERSED)) return { key: 'byte-order', text: 'the AArch64 instruction words are stored byte-reversed' };
  if (result.fromChapter) return { key: `chapter-${result.fromChapter}`, text: `they come from your chapter ${result.fromChapter} code (fix it there, or add --use-ref ${Number(result.fromChapter)})` };
  return undefined;
}
