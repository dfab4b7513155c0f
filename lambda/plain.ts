/**
 * Plain-JSON results: SDK outputs without `$metadata`, dates as ISO-8601 strings, binary as base64; and the size
 * limits of the services we answer (Step Functions, CloudFormation).
 */

/** `SendTaskSuccess.output`: at most 256 KiB (UTF-8 bytes). */
export const MAX_TASK_OUTPUT_BYTES = 262_144;
/** `SendTaskFailure.cause`: at most 32,768 characters. */
export const MAX_TASK_CAUSE_CHARS = 32_768;
/** A CloudFormation custom-resource response body: at most 4,096 bytes. */
export const MAX_CFN_RESPONSE_BYTES = 4_096;

/** Converts an SDK output to plain JSON: drops `$metadata`, turns `Date`s into ISO strings and bytes into base64. */
export function toPlain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$metadata' || item === undefined) continue;
      out[key] = toPlain(item);
    }
    return out;
  }
  return value;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Shortens `text` to at most `max` UTF-8 bytes (never splitting a character), marking what was cut.
 */
export function truncateBytes(text: string, max: number): string {
  if (byteLength(text) <= max) return text;
  const marker = (cut: number) => ` ...[${cut} bytes truncated]`;
  const budget = Math.max(0, max - byteLength(marker(byteLength(text))));
  let bytes = Buffer.from(text, 'utf8').subarray(0, budget);
  // Drop a partial trailing character.
  let kept = bytes.toString('utf8');
  if (kept.endsWith('\uFFFD')) kept = kept.slice(0, -1);
  bytes = Buffer.from(kept, 'utf8');
  return kept + marker(byteLength(text) - bytes.length);
}

/**
 * The longest prefix of `text` (whole characters, followed by a truncation marker) that `fits`, for a text embedded in
 * a larger document whose size is what is limited (JSON escaping can make a character count several times).
 * `text` itself when it fits; `''` when not even the marker does.
 */
export function fitText(text: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text;
  const characters = Array.from(text);
  const cut = (kept: number) => `${characters.slice(0, kept).join('')} ...[${characters.length - kept} characters truncated]`;
  let low = 0;
  let high = characters.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(cut(middle))) low = middle;
    else high = middle - 1;
  }
  return fits(cut(low)) ? cut(low) : '';
}
