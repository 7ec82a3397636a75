import type { IncomingMessage } from "node:http";

/**
 * Keeps at most `limit + 1` bytes: enough for the handler to see "too large"
 * without buffering an attack. The rest is read and dropped rather than the
 * socket destroyed: a reset connection would cut the sender off before its 413
 * (the server's request timeout bounds a sender that never stops). Events, not
 * `for await`: the async iterator costs a promise per chunk, and a webhook
 * body is almost always one chunk (bench/RESULTS.md, "serve").
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      chunks.push(chunk);
    });
    req.once("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(body.subarray(0, limit + 1));
    });
    req.once("error", reject);
  });
}
