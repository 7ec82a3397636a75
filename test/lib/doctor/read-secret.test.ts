import { describe, expect, it } from "vitest";
import { PassThrough, Readable } from "node:stream";
import { readSecret } from "../../../lib/doctor/read-secret.js";
import { UsageError } from "../../../lib/errors.js";

describe("readSecret", () => {
  it("reads all of piped stdin and trims exactly one trailing newline", async () => {
    const prompts: string[] = [];
    const read = (text: string) =>
      readSecret({ stdin: Readable.from([Buffer.from(text)]), prompt: (t) => prompts.push(t) });
    await expect(read("abc~def.ghi\n")).resolves.toBe("abc~def.ghi");
    await expect(read("abc~def.ghi\r\n")).resolves.toBe("abc~def.ghi");
    await expect(read("abc~def.ghi\n\n")).resolves.toBe("abc~def.ghi\n");
    // Piped input gets no prompt: stdout/stderr stay clean for scripts.
    expect(prompts).toEqual([]);
  });

  it("refuses empty input as bad usage", async () => {
    await expect(readSecret({ stdin: Readable.from([]), prompt: () => undefined })).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it("on a terminal prompts on stderr, reads with echo off, and restores the terminal", async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[] });
    const tty = Object.assign(stdin, {
      setRawMode(mode: boolean) {
        stdin.rawModes.push(mode);
        return stdin;
      },
    });
    const prompts: string[] = [];
    const reading = readSecret({ stdin: tty, prompt: (t) => prompts.push(t) });
    tty.write("\u001b[200~abX\u007fc~d\u001b[201~");
    tty.write("\r");
    await expect(reading).resolves.toBe("abc~d");
    expect(tty.rawModes).toEqual([true, false]);
    expect(prompts[0]).toContain("input hidden");
    expect(prompts.join("")).not.toContain("abc~d");
  });

  it("Ctrl-C on the prompt cancels", async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    const reading = readSecret({ stdin, prompt: () => undefined });
    stdin.write("ab\u0003");
    await expect(reading).rejects.toThrow("cancelled");
  });
});
