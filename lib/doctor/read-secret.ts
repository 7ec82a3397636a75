/**
 * Reads a secret value for `doctor --secret` from stdin, never from argv
 * (argv lands in shell history and the process list). Piped: all of stdin,
 * minus one trailing newline. A terminal: a prompt on stderr and raw mode, so
 * nothing is echoed.
 */
import { UsageError } from "../errors.js";

export interface SecretInput {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Where the prompt goes (stderr): never stdout, which may be a pipe. */
  prompt: (text: string) => void;
}

/** Refuses an absurd input size: a secret is 16–64 characters. */
const MAX_BYTES = 64 * 1024;
const ESC = String.fromCharCode(27);

export async function readSecret(input: SecretInput): Promise<string> {
  const value = input.stdin.isTTY === true ? await readHidden(input) : await readPiped(input.stdin);
  if (value === "") {
    throw new UsageError(
      "no secret value was given. Pipe it on stdin (e.g. `pbpaste | watchdog doctor --secret`) or run in a terminal and paste it at the prompt.",
    );
  }
  return value;
}

async function readPiped(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BYTES) throw new UsageError("stdin holds more than 64 KiB: give only the secret value.");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function readHidden(input: SecretInput): Promise<string> {
  const stdin = input.stdin;
  input.prompt("Client secret value (input hidden): ");
  stdin.setRawMode?.(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      input.prompt("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      // Bracketed-paste markers are terminal framing, not part of the value.
      const text = String(chunk).replaceAll(`${ESC}[200~`, "").replaceAll(`${ESC}[201~`, "");
      for (const ch of text) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish();
        if (ch === "\u0003") return finish(new UsageError("cancelled."));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
