/**
 * The marker every unfinished scaffold body throws. The check runner tells it apart from
 * every other error: a check that ends in `NotImplemented` is reported as `todo` (not
 * started), not as `fail`.
 */
export class NotImplemented extends Error {
  override readonly name = 'NotImplemented';
  /** What is missing, as the scaffold names it: `CodeRegion.seal`, `encodeModRM`, … */
  readonly what: string;
  /** How far along the work is, where a check can tell: `12 of 60 vectors match so far`. */
  readonly note: string | undefined;

  constructor(what: string, note?: string) {
    super(`not implemented yet: ${what} (a TODO in your chapter code)`);
    this.what = what;
    this.note = note;
  }
}

/** Throws `NotImplemented`; the body of every TODO in `chapters/`. */
export function todo(what: string): never {
  throw new NotImplemented(what);
}
