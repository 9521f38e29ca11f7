// How times, durations and numbers read on the dashboard: short, in the viewer's locale.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const sameDay = new Date(ms).toDateString() === new Date().toDateString();
  return sameDay ? clock.format(ms) : dateTime.format(ms);
}

/** 45 s, 12 min, 3 h 20 min, 2 d 4 h. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatAgo(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const delta = now - ms;
  return delta < 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString(undefined, {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

export function formatStatus(status: string): string {
  return status.replaceAll('_', ' ').toLowerCase();
}
