// Human durations for the CLI: "6h", "90m", "1h30m", "45s", "250ms", "2d".

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Milliseconds of a duration like "1h30m"; throws RangeError naming what is accepted. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (const m of trimmed.matchAll(part)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    matched += m[0].length;
  }
  if (trimmed.length === 0 || matched !== trimmed.length || !Number.isFinite(total)) {
    throw new RangeError(
      `"${text}" is not a duration: use a number with ms, s, m, h or d (e.g. 6h, 90m, 1h30m)`,
    );
  }
  return total;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
