// The API, as the dashboard calls it: JSON over fetch, with the API key the user gave (kept for
// the browser session only) when the API asks for one.
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
  }
}

const KEY_STORAGE = 'continuum.apiKey';

/** Fired on window when the API answers 401: the app asks for a key. */
export const KEY_NEEDED_EVENT = 'continuum:key-needed';

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { 'x-api-key': key } : {};
}

async function problemOf(response: Response): Promise<ApiProblem> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { code?: string; detail?: string; title?: string };
    code = body.code ?? code;
    message = body.detail ?? body.title ?? message;
  } catch {
    // Not problem+json: the status says enough.
  }
  return new ApiProblem(response.status, code, message);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: authHeaders(), signal });
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) window.dispatchEvent(new Event(KEY_NEEDED_EVENT));
    throw problem;
  }
  return (await response.json()) as T;
}

/** Like getJson, but a 404 is `undefined` (a route or a resource that is not there). */
export async function getJsonOrMissing<T>(
  path: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  try {
    return await getJson<T>(path, signal);
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 404) return undefined;
    throw err;
  }
}
