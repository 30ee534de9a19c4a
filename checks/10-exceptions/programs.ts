/**
 * The chapter 10 programs the checks run in every tier. What each must print and how it must
 * end is written out by hand in expectations.json beside this file, under the program's name
 * (and the run is also held to the reference interpreter, trace and payload included). Line
 * numbers in traces count from 1 at the line after the opening backquote.
 */
import type { Named } from './support.ts';

/**
 * Throw and catch across 1, 2 and 1000 frames; after 20 catches the call-depth limit is
 * exactly where it was: 10000 active calls work, 10001 overflow.
 */
export const ACROSS_FRAMES: Named = {
  name: 'across_frames',
  source: `fn thrower(x) {
  if x > 0 {
    throw x;
  }
  return 0;
}

fn middle(x) {
  let kept = x * 10;
  thrower(x);
  return kept;
}

fn down(n) {
  if n == 0 {
    throw 1000;
  }
  return down(n - 1) + 1;
}

fn depth(n) {
  if n == 0 {
    return 0;
  }
  return depth(n - 1) + 1;
}

fn main() {
  try {
    thrower(7);
    print(0);
  } catch e {
    print(e);
  }
  try {
    print(middle(8));
  } catch e {
    print(e + 1);
  }
  let i = 0;
  let caught = 0;
  while i < 20 {
    try {
      print(down(999));
    } catch e {
      caught = caught + e;
    }
    i = i + 1;
  }
  print(caught);
  print(depth(9998));
  try {
    print(depth(9999));
  } catch e {
    print(e);
  }
  return middle(0) + 5;
}
`,
};

/** Nested tries, a rethrow from a catch block, a throw inside a catch caught further out. */
export const NESTED: Named = {
  name: 'nested_and_rethrown',
  source: `fn inner(x) {
  try {
    if x == 1 {
      throw 10;
    }
    if x == 2 {
      throw 20;
    }
    print(x);
  } catch e {
    if e == 20 {
      throw e + 1;
    }
    print(e);
  }
  return x;
}

fn main() {
  let i = 0;
  while i < 4 {
    try {
      try {
        print(inner(i) + 100);
      } catch a {
        print(a * 100);
        throw a + 1;
      }
    } catch b {
      print(b);
    }
    i = i + 1;
  }
  try {
    try {
      throw 1;
    } catch c {
      try {
        throw c + 1;
      } catch d {
        print(d);
      }
      throw c + 5;
    }
  } catch f {
    print(f);
  }
  return i;
}
`,
};

/**
 * A loop of 10000 iterations with a try in its body, one in seven throwing from a call:
 * variables assigned in the try before the throw keep their new values in the catch.
 */
export const LOOP: Named = {
  name: 'throws_in_a_loop',
  source: `fn check(i) {
  if i % 7 == 3 {
    throw i;
  }
  return i;
}

fn main() {
  let i = 0;
  let sum = 0;
  let thrown = 0;
  let last = 0;
  while i < 10000 {
    try {
      last = i;
      sum = sum + check(i);
      last = -1;
    } catch e {
      thrown = thrown + 1;
      sum = sum - e;
      if last != e {
        print(last);
      }
    }
    i = i + 1;
  }
  print(sum);
  print(thrown);
  print(last);
  return 0;
}
`,
};

/** Throws from inside a condition and an argument list, with operands already pushed. */
export const MID_EXPRESSION: Named = {
  name: 'throw_mid_expression',
  source: `fn boom(x): bool {
  if x > 2 {
    throw x;
  }
  return x > 0;
}

fn val(x) {
  if x > 2 {
    throw x * 2;
  }
  return x;
}

fn add3(a, b, c) {
  return a + b * 10 + c * 100;
}

fn guarded(x) {
  try {
    val(x);
  } catch e {
    return e + 1;
  }
  return 0;
}

fn main() {
  let i = 0;
  while i < 5 {
    try {
      if boom(i) {
        print(add3(i, val(i + 1), 7));
      } else {
        print(-1);
      }
    } catch e {
      print(e);
    }
    i = i + 1;
  }
  print(1000 + guarded(5) * 2 + add3(1, 2, guarded(1)));
  return 0;
}
`,
};

/**
 * Values live across the call that throws: `spin` and `twist` (optimized) both save
 * callee-saved registers and reuse them, the throw skips both epilogues, and `catcher` and
 * `main` must find their values unchanged after the catch: for a register both saved, the
 * value `spin` saved (the outer save) is the one to put back.
 */
export const CALLEE_SAVED: Named = {
  name: 'callee_saved_after_catch',
  source: `fn leaf(n) {
  if n % 3 == 0 {
    throw n;
  }
  return n;
}

fn twist(n) {
  let u = n * 5;
  let v = n ^ 9;
  let w = n + 17;
  let r = leaf(n);
  return u - v + w + r;
}

fn spin(n) {
  let a = n * 3;
  let b = n ^ 5;
  let c = n + 11;
  let d = n * n;
  let e = n - 7;
  let f = n << 2;
  let g = n | 64;
  let h = n & 12;
  let r = twist(n);
  return a + b + c + d + e + f + g + h + r;
}

fn catcher(n) {
  let a = n * 7;
  let b = n + 3;
  let c = n * n;
  let d = n ^ 99;
  let e = n - 1;
  let f = n << 3;
  let g = n | 1;
  let h = n & 6;
  let r = 0;
  try {
    r = spin(n);
  } catch x {
    r = x * 1000;
  }
  return a + b + c + d + e + f + g + h + r;
}

fn main() {
  let total = 0;
  let i = 0;
  let p = 5;
  let q = 9;
  while i < 12 {
    let k = catcher(i);
    print(k);
    total = total + k * p - q;
    p = p + 1;
    q = q * 2;
    i = i + 1;
  }
  print(total);
  print(p);
  print(q);
  return total;
}
`,
};

/** Uncaught: a thrown payload three calls deep. */
export const UNCAUGHT_THROW: Named = {
  name: 'uncaught_throw',
  source: `fn c(x) {
  throw x + 1;
}

fn b(x) {
  let y = x * 2;
  return c(y) + 1;
}

fn a(x) {
  print(x);
  return b(x);
}

fn main() {
  return a(2);
}
`,
};

/** Uncaught: a runtime error keeps chapter 06's message, and gains a trace. */
export const UNCAUGHT_DIVISION: Named = {
  name: 'uncaught_division',
  source: `fn div(a, b) {
  return a / b;
}

fn main() {
  print(div(6, 3));
  print(div(1, 0));
  return 0;
}
`,
};

/** Uncaught: rethrown from a catch block, the trace starts at the rethrow. */
export const UNCAUGHT_RETHROW: Named = {
  name: 'uncaught_rethrow',
  source: `fn fail(x) {
  throw x;
}

fn retry(x) {
  try {
    fail(x);
  } catch e {
    print(e);
    throw e * 3;
  }
  return 0;
}

fn main() {
  retry(4);
  return 1;
}
`,
};

/** 10000 active frames (main and 9999 of `down`): the trace is shortened, the same in every tier. */
export const DEEP_UNCAUGHT: Named = {
  name: 'deep_uncaught',
  source: `fn down(n) {
  if n == 0 {
    throw 42;
  }
  return down(n - 1) + 1;
}

fn main() {
  print(1);
  return down(9998);
}
`,
};

/** Unbounded recursion, uncaught: chapter 06's message, and a trace 10000 frames deep. */
export const DEEP_OVERFLOW: Named = {
  name: 'deep_overflow',
  source: `fn forever(n) {
  return forever(n + 1) + 1;
}

fn main() {
  return forever(0);
}
`,
};

export const SCENARIOS: readonly Named[] = [ACROSS_FRAMES, NESTED, LOOP, MID_EXPRESSION, CALLEE_SAVED];
export const UNCAUGHT: readonly Named[] = [UNCAUGHT_THROW, UNCAUGHT_DIVISION, UNCAUGHT_RETHROW];

/** Each runtime error, caught, by a program that prints the payloads it catches. */
export function caughtRuntimeErrors(): string {
  return `fn divide(a, b) {
  return a / b;
}

fn remainder(a, b) {
  return a % b;
}

fn forever(n) {
  return forever(n + 1) + 1;
}

fn main() {
  let zero = 0;
  try {
    print(divide(7, 0));
  } catch e {
    print(e);
  }
  try {
    print(remainder(7, 0));
  } catch e {
    print(e);
  }
  try {
    print(5 / zero);
  } catch e {
    print(e);
  }
  try {
    print(forever(0));
  } catch e {
    print(e);
  }
  try {
    print(forever(0));
  } catch e {
    print(e);
  }
  print(divide(9, 3));
  print(depth(9998));
  try {
    print(depth(9999));
  } catch e {
    print(e);
  }
  return 0;
}

fn depth(n) {
  if n == 0 {
    return 0;
  }
  return depth(n - 1) + 1;
}
`;
}

/** Locals of `wide` live across its call (the most a function may have is 256). */
export const WIDE_LOCALS = 250;
/** Calls of `mix` nested around the recursive call (the parser allows about 254 levels). */
export const WIDE_NESTING = 250;

/**
 * A function with a frame of about 12 KiB in both compiled tiers, the widest Jot allows (256
 * locals, 256 levels of nesting): 250 locals live across the recursive call, and 250 calls
 * of `mix` nested around it, each with five arguments pushed (and, optimized, five distinct
 * values kept) while the inner call runs. Recursing without end, it runs out of machine
 * stack after a few hundred calls, long before the limit of 10000; the stack-limit check in
 * each prologue must turn that into the catchable stack overflow. Then the same function
 * recursing `WIDE_DEPTH` deep must work.
 */
export function wideFrames(depth: number = WIDE_DEPTH): string {
  const lets = Array.from({ length: WIDE_LOCALS }, (_, i) => `  let v${i} = n * ${i + 3};`).join('\n');
  let inner = 'wide(n - 1)';
  for (let level = WIDE_NESTING - 1; level >= 0; level--) {
    const args = Array.from({ length: 5 }, (_, k) => `n + ${5 * level + k}`);
    inner = `mix(${args.join(', ')}, ${inner})`;
  }
  const sum = Array.from({ length: WIDE_LOCALS }, (_, i) => `v${i}`).join(' + ');
  return `fn mix(a, b, c, d, e, f) {
  return a * 3 + b - c + d * 5 - e + f;
}

fn wide(n) {
${lets}
  if n == 0 {
    return 0;
  }
  return ${inner} + ${sum};
}

fn main() {
  try {
    print(wide(1000000));
  } catch e {
    print(e);
  }
  try {
    print(wide(1000000));
  } catch e {
    print(e);
  }
  print(wide(${depth}));
  return 0;
}
`;
}

/** `wide` recursing without end and nothing to catch it: main's second line is the call. */
export function wideUncaught(): string {
  const source = wideFrames();
  return source.slice(0, source.indexOf('fn main()')) + `fn main() {
  print(1);
  return wide(1000000);
}
`;
}

/** The line of `wide`'s recursive call in these sources (the line that starts with `return mix(`). */
export function wideCallLine(source: string): number {
  return source.split('\n').findIndex((line) => line.startsWith('  return mix(')) + 1;
}

/** How deep the last call of `wideFrames` recurses. */
export const WIDE_DEPTH = 60;
