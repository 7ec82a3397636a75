/**
 * What the bench's floor processes share: their settings from the environment (the scan's two
 * whole-process floors and bench/child.ts), and the scan floors' JSON document of exactly the
 * product's size on stdout. It imports nothing: a floor loads nothing the product does not.
 * (bench/alert-floor.ts keeps its own reader: its test runs the .ts file itself, which may
 * import only `node:` modules.)
 */

/** A reader of the settings `who` cannot run without: unset or empty is an error naming both. */
export function settingsOf(who: string): (name: string) => string {
  return (name) => {
    const value = process.env[name];
    if (value === undefined || value === "") throw new Error(`${who}: ${name} is not set`);
    return value;
  };
}

export interface FloorJson {
  /** One piece of the document (the floors write one line per app, as the scan does). */
  write(text: string): void;
  /** Pads to the product's size and closes the document. */
  end(): void;
}

/**
 * A document of `target` bytes on stdout, "[\n" to "]\n": never past the product's size, and
 * padded to it at the end (the product's lines carry more than the app), so both write the same
 * number of bytes.
 */
export function jsonWriter(target: number): FloorJson {
  let written = 0;
  const write = (text: string) => {
    const part = written + text.length > target ? text.slice(0, target - written) : text;
    if (part.length > 0) process.stdout.write(part);
    written += part.length;
  };
  write("[\n");
  return {
    write,
    end() {
      if (target > written + 2) write(" ".repeat(target - written - 2));
      write("]\n");
    },
  };
}
