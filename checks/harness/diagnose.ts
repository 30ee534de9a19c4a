/**
 * Turns what happened in a worker into words a learner can act on: which status a thrown
 * error means, and for a crash or a hang, which signal, where in the generated code, and
 * the instructions around that spot.
 */
import type { Arch } from '#native/arch.ts';
import { disassemble, hex } from '#native/disasm.ts';
import { CHAPTERS, type Chapter } from '../manifest.ts';
import type { CrashDump } from './crash-handler.ts';
import { firstChapterFrame } from './frames.ts';
import type { CheckResult, SerializedError } from './protocol.ts';

/** A copy of one executable range, taken when it was made executable. */
export interface CodeSnapshot {
  address: bigint;
  bytes: Uint8Array;
}

type Classified = Pick<CheckResult, 'status' | 'message'> & Partial<Pick<CheckResult, 'details' | 'fromChapter'>>;

function titleOf(number: string): string {
  return CHAPTERS.find((c) => c.number === number)?.title.toLowerCase() ?? `chapter ${number}`;
}

/** pass, todo (the chapter's own TODO was reached) or fail, and whose code failed. */
export function classifyError(error: SerializedError | undefined, chapter: Chapter): Classified {
  if (!error) return { status: 'pass', message: '' };
  const origin = firstChapterFrame(error.stack);
  const earlier = origin && origin.chapter < chapter.number ? origin.chapter : undefined;
  if (error.name === 'NotImplemented' && !earlier) {
    return { status: 'todo', message: `${error.what ?? error.message} is not written yet${error.note ? ` (${error.note})` : ''}` };
  }
  const message = error.name === 'Assertion' || error.name === 'AssertionError' ? error.message : `${error.name}: ${error.message}`;
  const detailParts = [error.details?.trim()];
  if (earlier) {
    detailParts.push(
      `This failure comes from your chapter ${earlier} code (${titleOf(earlier)}), at ${origin!.frame}.\n` +
        `Fix it there, or lean on the reference for that chapter: add --use-ref ${Number(earlier)} to the command.`,
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

function whereText(dump: CrashDump, code: CodeSnapshot[], arch: Arch): { where: string; details: string[] } {
  const located = locate(dump.pc, code, arch);
  const details: string[] = [];
  let where: string;
  if (located) {
    where = located.where;
    details.push(located.listing);
  } else {
    where = `at pc ${formatAddress(dump.pc)}, outside the generated code`;
    const linkRegister = arch === 'arm64' ? dump.registers.x30 : undefined;
    const caller = linkRegister !== undefined ? locate(linkRegister, code, arch) : undefined;
    if (caller) {
      details.push(`the link register x30 points ${caller.where}: the code branched from there to a bad address`);
      details.push(caller.listing);
    } else if (code.length === 0) {
      details.push('no code had been made executable during this check');
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
  return { message: `crashed with ${what} ${where}`, details: details.join('\n') };
}

export function describeHang(limitMs: number, dump: CrashDump | null, code: CodeSnapshot[], arch: Arch): { message: string; details: string } {
  const seconds = (limitMs / 1000).toFixed(1);
  if (!dump) return { message: `timed out after ${seconds} s (and did not answer where it was)`, details: '' };
  const located = locate(dump.pc, code, arch);
  if (!located) {
    return {
      message: `timed out after ${seconds} s, in TypeScript or Node.js code rather than in generated code`,
      details: 'An endless loop in your TypeScript? (The program counter was outside every generated code region.)',
    };
  }
  return {
    message: `timed out after ${seconds} s, looping ${located.where}`,
    details: `${located.listing}\n${registersLine(dump, arch)}\nAn endless loop: does a branch jump to the wrong place, or does its condition never change?`,
  };
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}
