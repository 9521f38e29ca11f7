// The schema-registry calls the Confluent client library does not offer: compatibility levels,
// compatibility tests, latest versions, lookups and subject deletion (Confluent REST API v7,
// as served by Apicurio under /apis/ccompat/v7).
import { ContinuumError, errorMessage } from '../core/errors.ts';

/** The registry answered with an error status, or could not be reached (`status` 0). */
export class SchemaRegistryRequestError extends ContinuumError {
  override readonly code = 'SCHEMA_REGISTRY_REQUEST_FAILED';
  readonly status: number;

  constructor(method: string, url: string, status: number, detail: string, cause?: unknown) {
    super(
      status === 0
        ? `${method} ${url}: schema registry unreachable: ${detail}`
        : `${method} ${url} answered ${status}: ${detail}`,
      // Unreachable or 5xx may pass; a 4xx will answer the same next time.
      { cause, retriable: status === 0 || status >= 500, context: { method, url, status } },
    );
    this.status = status;
  }
}

export interface RegisteredVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema as the registry stores it (JSON text). */
  schema: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryAdmin {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }

  private async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    allow404 = false,
  ): Promise<unknown> {
    const url = `${this.url}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': CONTENT_TYPE },
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new SchemaRegistryRequestError(method, url, 0, errorMessage(err), err);
    }
    const text = await response.text();
    if (response.status === 404 && allow404) return undefined;
    if (!response.ok) throw new SchemaRegistryRequestError(method, url, response.status, text);
    return text === '' ? null : (JSON.parse(text) as unknown);
  }

  private subjectPath(subject: string): string {
    return `/subjects/${encodeURIComponent(subject)}`;
  }

  /** The latest version under `subject`, or undefined when the subject does not exist. */
  async latest(subject: string): Promise<RegisteredVersion | undefined> {
    return (await this.request(
      'GET',
      `${this.subjectPath(subject)}/versions/latest`,
      undefined,
      true,
    )) as RegisteredVersion | undefined;
  }

  /** Every version number of `subject`, oldest first; empty when the subject does not exist. */
  async versions(subject: string): Promise<number[]> {
    const answer = await this.request(
      'GET',
      `${this.subjectPath(subject)}/versions`,
      undefined,
      true,
    );
    return (answer as number[] | undefined) ?? [];
  }

  async version(subject: string, version: number): Promise<RegisteredVersion> {
    return (await this.request(
      'GET',
      `${this.subjectPath(subject)}/versions/${version}`,
    )) as RegisteredVersion;
  }

  /** The version of `subject` holding exactly this schema, or undefined. */
  async lookup(subject: string, schema: unknown): Promise<RegisteredVersion | undefined> {
    return (await this.request(
      'POST',
      this.subjectPath(subject),
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema) },
      true,
    )) as RegisteredVersion | undefined;
  }

  /** The subject's own compatibility level, or undefined when it has none. */
  async compatibility(subject: string): Promise<string | undefined> {
    const answer = (await this.request(
      'GET',
      `/config/${encodeURIComponent(subject)}`,
      undefined,
      true,
    )) as { compatibilityLevel?: string; compatibility?: string } | undefined;
    return answer?.compatibilityLevel ?? answer?.compatibility;
  }

  /**
   * Sets the subject's compatibility level; works before the subject's first version too. Safe
   * against a concurrent caller: Apicurio creates a subject's first rule with check-then-insert,
   * so two callers racing on a new subject see one of them refused with 409 "A rule named
   * 'COMPATIBILITY' already exists". Then the rule exists and a second PUT updates it.
   */
  async setCompatibility(subject: string, level: string): Promise<void> {
    const path = `/config/${encodeURIComponent(subject)}`;
    try {
      await this.request('PUT', path, { compatibility: level });
    } catch (err) {
      if (!(err instanceof SchemaRegistryRequestError && err.status === 409)) throw err;
      if ((await this.compatibility(subject)) === level) return;
      await this.request('PUT', path, { compatibility: level });
    }
  }

  /**
   * Is `schema` compatible, under the subject's level, with one registered version (the latest by
   * default)? For a subject with no versions the registry answers true. Transitive levels need
   * one call per version: Apicurio's version-less form checks every version even for plain
   * BACKWARD, which registration does not.
   */
  async isCompatible(
    subject: string,
    schema: unknown,
    version: number | 'latest' = 'latest',
  ): Promise<boolean> {
    const answer = (await this.request(
      'POST',
      `/compatibility${this.subjectPath(subject)}/versions/${version}`,
      { schema: typeof schema === 'string' ? schema : JSON.stringify(schema) },
    )) as { is_compatible?: boolean };
    return answer.is_compatible === true;
  }

  /** Deletes the subject for good: soft delete first, as the API refuses to hard-delete a live one. */
  async deleteSubject(subject: string): Promise<void> {
    await this.request('DELETE', this.subjectPath(subject), undefined, true);
    await this.request('DELETE', `${this.subjectPath(subject)}?permanent=true`, undefined, true);
  }

  /** Removes the subject's own compatibility level (e.g. one set for a subject never registered). */
  async deleteCompatibility(subject: string): Promise<void> {
    await this.request('DELETE', `/config/${encodeURIComponent(subject)}`, undefined, true);
  }

  async subjects(): Promise<string[]> {
    return (await this.request('GET', '/subjects')) as string[];
  }
}
