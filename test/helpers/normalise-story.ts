/**
 * The sandbox story with what legitimately differs between two runs blanked:
 * ids (UUIDs, key prefixes, installation and rotation ids, a secret's 3-letter
 * hint), ports, wall-clock timings, and dates (day 0 is today). Everything
 * else — the words, the counts, the order of alerts — must be equal.
 */
export function normaliseStory(text: string): string {
  return (
    text
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
      .replace(/\br-\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, "<rotation>")
      .replace(/\bi-[0-9a-f]{8}\b/g, "<installation>")
      .replace(/\b[0-9a-f]{8}\b/g, "<id>")
      .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z/g, "<time>")
      .replace(/\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?/g, "<date>")
      .replace(/(127\.0\.0\.1|localhost):\d+/g, "$1:<port>")
      .replace(/ in \d+ ms\b/g, " in <n> ms")
      // The scan table's HINT column: the first characters of a random secret value.
      .replace(/(secret {2}<id> {2})\S{3}( +<date>)/g, "$1<hint>$2")
  );
}
