/**
 * Chapter 12: the perf map. Every function a run compiles is named in /tmp/perf-<pid>.map with
 * its tier, at the address its code runs from: each range lies in an executable mapping of
 * the process (read from /proc/self/maps while the code is loaded), the ranges do not
 * overlap, and the bytes found at each start are the function's own code. The code is run,
 * on this worker's architecture, and must print what the program prints. A tiered run names
 * each function once per tier it reached, as the tiered VM compiles it. What each check finds
 * is reported (check.ts reportOutcome: what the program printed, the functions and tiers the
 * map names, yes or no for each fact the checks require of the lines, the ranges and the bytes
 * there; never an address or a size).
 */
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { copyOut } from '#native/libc.ts';
import { seen } from './support.ts';
import { chapterModule, mappings, THREE_FUNCTIONS, THREE_FUNCTIONS_OUTPUT, vmModules } from './tools-support.ts';

type PerfMapModule = typeof import('../../solutions/12-tiers-and-tools/perf-map.ts');
type JitProgram = import('../../solutions/12-tiers-and-tools/vm-modules.ts').JitProgram;

const perf = await learnerCode(chapterModule<PerfMapModule>('perf-map.ts'));
const vm = await learnerCode(vmModules());

const FUNCTIONS = ['square', 'sum_of_squares', 'is_even', 'main'];

/** What the check saw while the code was loaded: the mappings, and the bytes at each symbol's start. */
interface Loaded {
  readonly address: bigint;
  readonly jit: JitProgram;
  readonly maps: string;
  readonly bytesAt: Map<bigint, Uint8Array>;
}

/** Compiles THREE_FUNCTIONS in `tier`, writes its perf map while it runs, runs it; returns the map's symbols and what was seen. */
function runWithPerfMap(tier: 'baseline' | 'opt') {
  const path = `/tmp/perf-${process.pid}.map`;
  const map = new perf.PerfMap(path);
  assert.ok(seen(`${tier}: the map is written to /tmp/perf-<pid>.map`, map.path === path), `PerfMap writes the file perf reads, ${path}; its path is ${map.path}`);
  let optimized = new Set<string>();
  let loaded: Loaded | undefined;
  const level = perf.reportingLoads(vm.language.jit, (address, jit) => {
    const symbols = perf.bufferSymbols(address, jit.code.length, jit.functions, (name) => (optimized.has(name) ? 'opt' : 'baseline'));
    map.add(symbols);
    const bytesAt = new Map(symbols.map((s) => [s.start, copyOut(s.start, Math.min(s.size, 16))]));
    loaded = { address, jit, maps: readFileSync('/proc/self/maps', 'utf8'), bytesAt };
  });
  const program = vm.compileSource(THREE_FUNCTIONS, vm.language);
  let jit: JitProgram;
  if (tier === 'opt') {
    const compiled = vm.compileOptimized(program, undefined, { level });
    optimized = new Set(compiled.optimized);
    assert.ok(seen(`${tier}: the optimizing tier declines none of these functions`, compiled.declined.length === 0), `the optimizing tier declines none of these functions, but declined ${JSON.stringify(compiled.declined)}`);
    jit = compiled.jit;
  } else {
    jit = vm.compileProgram(program, undefined, level);
  }
  const heap = new vm.heap!.Heap({});
  const output: string[] = [];
  try {
    vm.heap!.useHeap(jit, heap);
    const outcome = jit.run({ print: (text) => output.push(text) });
    assert.ok(seen(`${tier}: the run ends without an error`, outcome.error === undefined), outcome.error?.message);
  } finally {
    jit.dispose();
    heap.dispose();
  }
  reportOutcome(`${tier}: what the program printed`, { output });
  assert.equal(output, THREE_FUNCTIONS_OUTPUT, 'the program runs as compiled and prints what it should');
  assert.ok(seen(`${tier}: the load of the code was reported`, loaded !== undefined), 'the load of the code was never reported: reportingLoads must call onLoaded at the first run, with the code\'s address');
  const text = readFileSync(path, 'utf8');
  rmSync(path, { force: true });
  return { text, symbols: perf.parsePerfMap(text), loaded: loaded! };
}

function checkMap(tier: 'baseline' | 'opt') {
  const { text, symbols, loaded } = runWithPerfMap(tier);
  reportOutcome(`${tier}: the program's functions the map names`, { output: namedTiers(symbols, FUNCTIONS) });
  const malformed = text.trim().split('\n').filter((line) => !/^[0-9a-f]+ [0-9a-f]+ \S.* \[[a-z]+\]$/.test(line));
  assert.ok(seen(`${tier}: every line is START SIZE NAME [TIER]`, malformed.length === 0), `a perf map line is 'START SIZE NAME [TIER]' with START and SIZE in hex without 0x: '${malformed[0]}'`);
  for (const name of FUNCTIONS) {
    const found = symbols.filter((s) => s.name === name);
    assert.is(found.length, 1, `${name} should be named once in the map:\n${text}`);
    assert.is(found[0]!.tier, tier, `${name} was compiled by the ${tier} tier, the map says ${found[0]!.tier}:\n${text}`);
  }
  // Where each range lies: what is wrong with it, the first of them shown.
  const code = mappings(loaded.maps);
  const sorted = [...symbols].sort((a, b) => (a.start < b.start ? -1 : 1));
  const misplaced: string[] = [];
  for (const [i, symbol] of sorted.entries()) {
    const end = symbol.start + BigInt(symbol.size);
    const home = code.find((m) => m.start <= symbol.start && end <= m.end);
    const next = sorted[i + 1];
    if (symbol.size <= 0) misplaced.push(`${symbol.name} has size 0`);
    else if (home === undefined) misplaced.push(`${symbol.name} at 0x${symbol.start.toString(16)}+0x${symbol.size.toString(16)} is not inside one mapping of the process`);
    else if (!/^r-x/.test(home.perms)) misplaced.push(`${symbol.name} lies in a mapping with permissions ${home.perms}: the code runs from a read+execute mapping`);
    else if (next !== undefined && end > next.start) misplaced.push(`${symbol.name} overlaps ${next.name}`);
    else if (symbol.start < loaded.address || end > loaded.address + BigInt(loaded.jit.code.length)) misplaced.push(`${symbol.name} lies outside the program's code (0x${loaded.address.toString(16)}, 0x${loaded.jit.code.length.toString(16)} bytes)`);
  }
  assert.ok(seen(`${tier}: every range lies in the program's code, in one read+execute mapping, overlapping no other`, misplaced.length === 0), misplaced[0]);
  // What each function's range starts with: the function's own code.
  const elsewhere: string[] = [];
  for (const fn of loaded.jit.functions) {
    const symbol = symbols.find((s) => s.name === fn.name)!;
    const expected = loaded.jit.code.slice(fn.offset, fn.offset + Math.min(symbol.size, 16));
    if (symbol.start !== loaded.address + BigInt(fn.offset)) elsewhere.push(`${fn.name} starts at offset 0x${fn.offset.toString(16)} of the code, so at 0x${(loaded.address + BigInt(fn.offset)).toString(16)}; the map says 0x${symbol.start.toString(16)}`);
    else if ([...loaded.bytesAt.get(symbol.start)!].join() !== [...expected].join()) elsewhere.push(`the bytes at ${fn.name}'s address in memory are not its code`);
  }
  assert.ok(seen(`${tier}: every function named at the address of its code`, elsewhere.length === 0), elsewhere[0]);
}

/**
 * The symbols of `names` as 'NAME [TIER]', sorted: what every correct map names, wherever it
 * placed the code (a map may name more, stubs or variants, as its compiler chose).
 */
function namedTiers(symbols: readonly { readonly name: string; readonly tier: string }[], names: readonly string[]): string[] {
  return symbols.filter((s) => names.includes(s.name)).map((s) => `${s.name} [${s.tier}]`).sort();
}

check('the perf map names every function of a baseline run, each at the address its code runs from', () => {
  checkMap('baseline');
}, { hints: [
  'One line per function: its address (the code\'s address plus the function\'s offset), its size (to the next function), its name and [baseline].',
  'The address is known only once the code is loaded: chapter 07 maps it at the first run, which is when beforeRun sees run.code.address.',
] });

check('the perf map names every function of an optimized run with the optimizing tier', () => {
  checkMap('opt');
}, { hints: [
  'The tier in brackets comes from tierOf: the names the optimizing tier compiled are [opt].',
] });

check('the perf map of a tiered run names each function in each tier it reached, at the address of its code', () => {
  const tiered = vm.tiered!;
  const path = `/tmp/perf-${process.pid}.map`;
  const map = new perf.PerfMap(path);
  const program = vm.compileSource(THREE_FUNCTIONS, vm.language);
  const heap = new tiered.TieredHeap({});
  const output: string[] = [];
  const options = { tierUpCalls: 1, tierUpOptimizedCalls: 1, tierUpLoops: 50, onCompiled: (code: Parameters<NonNullable<import('../../solutions/12-tiers-and-tools/options.ts').TierOptions['onCompiled']>>[0]) => map.add([perf.compiledSymbol(code)]) };
  const tvm = new tiered.TieredVM(program, heap, options, (text) => output.push(text));
  let loaded: { maps: string; listing: string; bytes: Map<bigint, Uint8Array> };
  let symbols: ReturnType<PerfMapModule['parsePerfMap']>;
  try {
    const ending = tvm.run();
    assert.ok(seen('tiered: the run ends without an error', ending.error === undefined), ending.error?.message);
    symbols = perf.parsePerfMap(readFileSync(path, 'utf8'));
    // While the code is still mapped: where it lies, and what is there.
    loaded = { maps: readFileSync('/proc/self/maps', 'utf8'), listing: tvm.listing(), bytes: new Map(symbols.map((s) => [s.start, copyOut(s.start, s.size)])) };
  } finally {
    tvm.dispose();
    heap.dispose();
    rmSync(path, { force: true });
  }
  reportOutcome('tiered: what the program printed', { output });
  reportOutcome('tiered: the hot functions the map names', { output: namedTiers(symbols, ['square', 'sum_of_squares']) });
  assert.equal(output, THREE_FUNCTIONS_OUTPUT, 'the tiered run prints what the program prints');
  const named = symbols.map((s) => `${s.name} [${s.tier}]`);
  for (const name of ['square', 'sum_of_squares']) {
    for (const tier of ['baseline', 'opt']) assert.ok(named.includes(`${name} [${tier}]`), `after many calls ${name} reached the ${tier} tier: the map names ${JSON.stringify(named)}`);
  }
  assert.ok(seen('tiered: a function is named once per tier', new Set(named).size === named.length), `a function is named once per tier: ${JSON.stringify(named)}`);
  const code = mappings(loaded.maps);
  const outside = symbols.filter((symbol) => {
    const end = symbol.start + BigInt(symbol.size);
    const home = code.find((m) => m.start <= symbol.start && end <= m.end);
    return home === undefined || !/^r-x/.test(home.perms);
  });
  assert.ok(seen('tiered: every range lies in one read+execute mapping', outside.length === 0), outside.map((symbol) => `${symbol.name} [${symbol.tier}] at 0x${symbol.start.toString(16)}+0x${symbol.size.toString(16)} is not inside one read+execute mapping of the process`)[0]);
  // The listing is the code from the region's start: every symbol's bytes must be there, all at one base address.
  const image = listingImage(loaded.listing);
  const elsewhere: string[] = [];
  let base: bigint | undefined;
  for (const symbol of symbols) {
    const bytes = loaded.bytes.get(symbol.start)!;
    if (base === undefined) {
      const at = indexOfBytes(image, bytes);
      if (at < 0) {
        elsewhere.push(`the bytes at ${symbol.name}'s address are nowhere in the tiered VM's code`);
        break;
      }
      base = symbol.start - BigInt(at);
    }
    const offset = Number(symbol.start - base);
    if ([...bytes].join() !== [...image.slice(offset, offset + bytes.length)].join()) elsewhere.push(`${symbol.name} [${symbol.tier}]: the bytes at its address are not the code the listing has at offset 0x${offset.toString(16)}`);
  }
  assert.ok(seen('tiered: every function named at the address of its code', elsewhere.length === 0), elsewhere[0]);
});

/** The code of a listing (`0000  55 48 89 e5  push rbp …` rows) as bytes, from offset 0. */
function listingImage(listing: string): Uint8Array {
  const image: number[] = [];
  for (const row of listing.split('\n')) {
    const match = /^([0-9a-f]{4,})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})/.exec(row);
    if (match === null) continue;
    const offset = parseInt(match[1]!, 16);
    match[2]!.split(' ').forEach((byte, i) => (image[offset + i] = parseInt(byte, 16)));
  }
  return Uint8Array.from(image, (b) => b ?? 0);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
