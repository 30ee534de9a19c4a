/**
 * The marker every unfinished scaffold body throws. The check runner tells it apart from
 * every other error: a check that ends in `NotImplemented` is reported as `todo` (not
 * started), not as `fail`.
 */
export class NotImplemented extends Error {
  override readonly name = 'NotImplemented';
  /** What is missing, as the scaffold names it: `CodeRegion.seal`, `encodeModRM`, … */
  readonly what: string;

  constructor(what: string) {
    super(`not implemented yet: ${what} (a TODO in your chapter code)`);
    this.what = what;
  }
}

/** Throws `NotImplemented`; the body of every TODO in `chapters/`. */
export function todo(what: string): never {
  throw new NotImplemented(what);
}
