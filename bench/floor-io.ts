/**
 * What the scan's two whole-process floors (bench/scan-floor.ts, bench/scan-floor-sdk.ts) share:
 * their settings from the environment, and a JSON document of exactly the product's size on stdout.
 * Node modules only: a floor loads nothing the product does not.
 */

/** A setting the floor cannot run without. */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`scan floor: ${name} is not set`);
  return value;
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
