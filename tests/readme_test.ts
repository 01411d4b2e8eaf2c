/** The README's promises that code can check: its capability table is the backends' own. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { capabilityTable } from "./support/capability_table.ts";

describe("README", () => {
  it("its backend table is made from the backends' capability declarations", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const table = capabilityTable();
    assert.ok(readme.includes(table), `README.md should contain this table:\n${table}`);
  });
});
