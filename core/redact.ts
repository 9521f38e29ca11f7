// Secrets out of what the platform prints: a URL's password, and the whole value of a variable
// that holds keys, passwords or tokens. For output meant for people (`continuum config`, logs).

const SECRET_NAME = /(KEYS?|SECRET|PASSWORD|TOKEN)$/;

export const MASK = '***';

/** A URL with its password (and a user-only credential's user) masked; other text as it is. */
export function redactUrl(text: string): string {
  // Several comma-separated URLs (a broker list, a MongoDB seed list) each keep their shape.
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/gi,
    (_whole, scheme: string, auth: string) => {
      const colon = auth.indexOf(':');
      return colon < 0 ? `${scheme}${MASK}@` : `${scheme}${auth.slice(0, colon)}:${MASK}@`;
    },
  );
}

/** The value of an environment variable as it may be printed. */
export function redactVariable(name: string, value: string): string {
  if (value !== '' && SECRET_NAME.test(name)) return MASK;
  return redactUrl(value);
}
