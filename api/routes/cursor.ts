// Keyset-pagination cursors: the sort key of a page's last item, as opaque base64url JSON.
// A cursor that does not decode to the expected shape is a 400, never a 500.
import type { z } from 'zod';
import { ApiError } from '../api-error.ts';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success)
    throw new ApiError(400, 'INVALID_CURSOR', 'the cursor is not one this API handed out');
  return result.data;
}
