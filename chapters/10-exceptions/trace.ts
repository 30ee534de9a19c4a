/**
 * Chapter 10: stack traces, the same text from every tier.
 *
 * An uncaught exception ends the program with a trace: one frame per active call, the
 * innermost first, each the function's name and the source line it was at (the throw or the
 * failing instruction in the innermost frame, the call in every other):
 *
 *   at thrower (line 3)
 *   at middle (line 7)
 *   at main (line 12)
 *
 * A trace of more than `TRACE_LIMIT` frames is shortened by one rule: the innermost and the
 * outermost `TRACE_ENDS` frames, and between them one line that counts the frames left out:
 *
 *   at depth (line 8)
 *   … (10 lines)
 *   ... 9980 more frames ...
 *   … (10 lines)
 *   at main (line 13)
 */
import { todo } from '#native/todo.ts';

/** One active call: the function and the source line it is at. */
export interface TraceFrame {
  readonly name: string;
  readonly line: number;
}

/** The most frames a trace shows in full. */
export const TRACE_LIMIT = 20;
/** Frames shown at each end of a longer trace. */
export const TRACE_ENDS = 10;

/** One frame as a line of the trace: `at main (line 12)`. */
export function formatFrame(frame: TraceFrame): string {
  return `at ${frame.name} (line ${frame.line})`;
}

/** The trace as text, one line per frame (shortened past `TRACE_LIMIT`), no newline at the end. */
export function formatTrace(frames: readonly TraceFrame[]): string {
  // TODO: one line per frame (formatFrame), joined by '\n', no newline at the end. Past
  // TRACE_LIMIT frames: the TRACE_ENDS innermost, then one line `... N more frames ...`
  // (N counts the frames left out), then the TRACE_ENDS outermost.
  return todo('formatTrace');
}
