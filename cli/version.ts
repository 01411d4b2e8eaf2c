/**
 * The version the CLI reports (`seastreamer --version`); tests/cli_test.ts
 * checks it against deno.json's.
 *
 * @module
 */

/** This release's version. */
export const VERSION = "0.1.0";
