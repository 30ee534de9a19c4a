/**
 * Chapter 12: the REPL at a terminal (`jot`, `npm run repl`): reads lines with node:readline,
 * gathers them until a block is closed, hands each whole input to a `ReplSession`
 * (repl-session.ts) and prints what it says. History is kept in a file between sessions.
 *
 * On a terminal it prompts (`jot> `, and `...> ` inside an open block); on a pipe (a scripted
 * session: `jot < session.txt`) it prints only what the inputs produce, so that a script's
 * output can be compared line for line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Arch } from '#native/arch.ts';
import { inputIsComplete, ReplSession, type ReplOptions } from './repl-session.ts';
import type { VmModules } from './vm-modules.ts';

export interface StartReplOptions {
  readonly arch: Arch;
  /** Where the history is kept between sessions (none: not kept). */
  readonly historyFile?: string;
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output?: NodeJS.WritableStream;
  /** Says where this process runs, for `:arch`. */
  readonly describeHost?: () => string;
  /** The tiered VM's thresholds (`jot --tier-up-calls 10`). */
  readonly thresholds?: ReplOptions['thresholds'];
  /** Show the promotions from the start (`jot --trace-tiers`, as `:trace on`). */
  readonly traceTiers?: boolean;
}

const HISTORY_SIZE = 500;

function readHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Runs the REPL until the input ends or `:quit`. */
export async function startRepl(vm: VmModules, options: StartReplOptions): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const terminal = input.isTTY === true;
  const session = new ReplSession(vm, {
    arch: options.arch,
    ...(options.describeHost ? { describeHost: options.describeHost } : {}),
    ...(options.thresholds ? { thresholds: options.thresholds } : {}),
  });
  if (options.traceTiers === true) session.evaluate(':trace on');
  const history = terminal ? readHistory(options.historyFile) : [];
  const rl = createInterface({ input, output, terminal, history, historySize: HISTORY_SIZE, removeHistoryDuplicates: true });
  const write = (text: string) => void output.write(text);
  // While an input runs, the terminal leaves raw mode, so that Ctrl-C is a signal again and
  // ends the process: machine code in an endless loop cannot be stopped any other way.
  const raw = (on: boolean) => {
    const tty = input as { setRawMode?: (on: boolean) => void };
    if (terminal && typeof tty.setRawMode === 'function') tty.setRawMode(on);
  };
  const evaluating = (evaluate: () => string[]): string[] => {
    raw(false);
    try {
      return evaluate();
    } finally {
      raw(true);
    }
  };
  if (terminal) write(`Jot REPL on ${options.arch}; :help lists the commands, :quit (or Ctrl-D) leaves.\n`);
  let pending: string[] = [];
  const prompt = () => {
    if (!terminal) return;
    rl.setPrompt(pending.length === 0 ? 'jot> ' : '...> ');
    rl.prompt();
  };
  // Ctrl-C drops a half-typed input, as shells do; on an empty line it says how to leave.
  rl.on('SIGINT', () => {
    write(pending.length > 0 ? '\n(input dropped)\n' : '\n(:quit or Ctrl-D leaves)\n');
    pending = [];
    prompt();
  });
  prompt();
  for await (const line of rl) {
    pending.push(line);
    const text = pending.join('\n');
    if (!inputIsComplete(text)) {
      prompt();
      continue;
    }
    pending = [];
    if (/^\s*:(quit|q|exit)\s*$/.test(text)) break;
    if (/^\s*:disasm\b/.test(text)) await vm.loadDisassembler?.();
    for (const shown of evaluating(() => session.evaluate(text))) write(`${shown}\n`);
    prompt();
  }
  if (pending.length > 0) for (const shown of session.evaluate(pending.join('\n'))) write(`${shown}\n`);
  rl.close();
  session.dispose();
  if (terminal && options.historyFile !== undefined) {
    try {
      writeFileSync(options.historyFile, `${[...(rl as unknown as { history: string[] }).history].reverse().join('\n')}\n`);
    } catch {
      // No history file (a read-only folder): the session still worked.
    }
  }
}
