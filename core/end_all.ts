/**
 * Ending a streamer's producers and consumers together when it disconnects.
 *
 * @module
 */

/** Something with an `end()`: a producer or a consumer. */
export interface Endable {
  /** Stop, flushing or committing what is owed. */
  end(): Promise<void>;
}

/**
 * End all of `endables` at once; every one is ended even if some fail. Resolves
 * to the errors, in no particular order (empty if all ended cleanly).
 */
export async function endAll(...endables: Iterable<Endable>[]): Promise<unknown[]> {
  const errors: unknown[] = [];
  await Promise.all(
    endables.flatMap((group) =>
      [...group].map((e) => e.end().catch((error) => errors.push(error)))
    ),
  );
  return errors;
}
