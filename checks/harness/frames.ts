/** Which chapter's code a stack trace points into. */

/** A stack frame in chapter code, learner's (chapters/) or reference (solutions/). */
export interface ChapterFrame {
  /** Two digits: '01'. */
  chapter: string;
  /** The whole frame, without `at `: `Function.allocate (/…/chapters/01-…/code-region.ts:83:12)`. */
  frame: string;
  /** The file and position from the workbook's folder on: `chapters/01-…/code-region.ts:83:12`. */
  location: string;
}

const CHAPTER_PATH = /(?:^|[\\/(\s])((?:chapters|solutions)[\\/](\d\d)-[a-z0-9-]+[\\/][^\s):]+(?::\d+)*)/;

/** The first frame of `stack` (after its message line) in chapter code, if any. */
export function firstChapterFrame(stack: string): ChapterFrame | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const match = CHAPTER_PATH.exec(line);
    if (match) return { chapter: match[2]!, frame: line.trim().replace(/^at /, ''), location: match[1]! };
  }
  return undefined;
}
