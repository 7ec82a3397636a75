/**
 * One way to shorten text for people: chat headers and PagerDuty summaries
 * (incidents/sinks/render.ts) and the excerpt of a service's error text
 * (errors.ts) all cut here.
 */

/**
 * Cuts `text` to at most `max` characters at a word boundary, ending with "…"
 * when it had to; a single word longer than half of `max` is cut inside.
 * Never leaves half of a surrogate pair behind.
 */
export function truncateAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, Math.max(0, max));
  let head = text.slice(0, max - 1);
  const space = head.search(/\s\S*$/);
  if (space > max / 2) head = head.slice(0, space);
  else if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  return `${head.trimEnd()}…`;
}
