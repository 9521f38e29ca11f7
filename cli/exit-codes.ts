// Exit codes of `continuum`, documented in its help text.
export const EXIT = {
  ok: 0,
  /** The command ran and failed (a service did not start, a check failed). */
  failed: 1,
  /** Wrong command-line usage. */
  usage: 2,
  /** A CONTINUUM_* variable is invalid. */
  config: 3,
  /** The machine lacks a prerequisite that could not be installed. */
  prerequisite: 4,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the command failed (e.g. a service did not become ready)
  2  usage error
  3  invalid configuration (a CONTINUUM_* variable)
  4  a prerequisite is missing and could not be installed`;
