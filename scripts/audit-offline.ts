// `npm audit --omit=dev` without the npm audit endpoint: our production dependency tree (from
// package-lock.json) matched against OSV advisories read from a directory of JSON files or from
// a git directory of github/advisory-database. The matching is pure and unit-tested
// (audit-offline.test.ts); the file and git reading is at the bottom, under the CLI.
//
//   npm run audit:offline -- <advisory dir or git dir>     (or ADVISORY_DB=<path>)
//   options: --lock <package-lock.json>  --json
// Exits 1 when a production dependency is affected by an advisory, 0 when none is.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// ---------- versions (OSV "SEMVER": semver 2.0 precedence, pre-releases included) ----------

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: (string | number)[];
}

const SEMVER_RE =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$/;

/** x.y.z[-pre][+build]; also "x" and "x.y" (advisories sometimes abbreviate), as x.0.0 / x.y.0. */
export function parseVersion(text: string): SemVer | null {
  const trimmed = text.trim();
  const short = /^v?(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (short) {
    return { major: Number(short[1]), minor: Number(short[2] ?? 0), patch: 0, pre: [] };
  }
  const m = SEMVER_RE.exec(trimmed);
  if (!m) return null;
  const pre = m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

/** Semver precedence: <0, 0, >0. Build metadata is ignored; a pre-release sorts before its release. */
export function compareVersions(a: SemVer, b: SemVer): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  if (a.pre.length === 0 || b.pre.length === 0) {
    return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1; // numeric identifiers sort before alphanumeric ones
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

// ---------- OSV advisories ----------

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvAffected {
  package?: { ecosystem?: string; name?: string };
  ranges?: { type?: string; events?: OsvEvent[] }[];
  versions?: string[];
}

export interface OsvAdvisory {
  id: string;
  summary?: string;
  aliases?: string[];
  withdrawn?: string;
  modified?: string;
  severity?: { type?: string; score?: string }[];
  database_specific?: { severity?: string };
  affected?: OsvAffected[];
}

const ZERO: SemVer = { major: 0, minor: 0, patch: 0, pre: [] };

/**
 * An event's version. Some older GHSA files list two in one field ("fixed": "7.2.4, 6.11.4"); we
 * read them on the safe side: the lowest for "introduced", the highest for "fixed" and
 * "last_affected". An event we cannot read at all is dropped, which leaves its range open: an
 * advisory we cannot read is reported, never hidden.
 */
function eventVersion(event: OsvEvent): { kind: keyof OsvEvent; version: SemVer } | null {
  for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
    const text = event[kind];
    if (text === undefined) continue;
    if (kind === 'introduced' && text === '0') return { kind, version: ZERO };
    const versions = text
      .split(/[\s,]+/)
      .filter((part) => part !== '')
      .map(parseVersion)
      .filter((version): version is SemVer => version !== null)
      .sort(compareVersions);
    const version = kind === 'introduced' ? versions[0] : versions[versions.length - 1];
    return version ? { kind, version } : null;
  }
  return null;
}

/**
 * OSV range evaluation: events sorted by version; "introduced" (inclusive, "0" = from the start)
 * opens a range, "fixed" (exclusive) and "last_affected" (inclusive) close it.
 */
export function inRange(version: SemVer, events: OsvEvent[]): boolean {
  const sorted = events
    .map(eventVersion)
    .filter((e): e is NonNullable<typeof e> => e !== null && e.kind !== 'limit')
    .sort((a, b) => compareVersions(a.version, b.version));
  let affected = false;
  for (const { kind, version: at } of sorted) {
    const cmp = compareVersions(version, at);
    if (kind === 'introduced') {
      if (cmp < 0) break;
      affected = true;
    } else if (kind === 'fixed') {
      if (cmp < 0) break;
      affected = false;
    } else {
      if (cmp <= 0) break;
      affected = false;
    }
  }
  return affected;
}

/** Whether one `affected[]` entry covers this version: its explicit `versions`, or a range. */
export function affects(entry: OsvAffected, versionText: string): boolean {
  if (entry.versions?.includes(versionText)) return true;
  const version = parseVersion(versionText);
  if (!version) return false;
  return (entry.ranges ?? []).some(
    (r) => (r.type === 'SEMVER' || r.type === 'ECOSYSTEM') && inRange(version, r.events ?? []),
  );
}

/** The lowest "fixed" above the installed version in the ranges that affect it. */
export function fixedVersion(entry: OsvAffected, versionText: string): string | null {
  const version = parseVersion(versionText);
  if (!version) return null;
  const fixes = (entry.ranges ?? [])
    .filter((r) => inRange(version, r.events ?? []))
    .flatMap((r) => (r.events ?? []).map((e) => e.fixed).filter((f) => f !== undefined))
    .map((f) => ({ text: f, v: parseVersion(f) }))
    .filter((f): f is { text: string; v: SemVer } => f.v !== null)
    .filter((f) => compareVersions(f.v, version) > 0)
    .sort((a, b) => compareVersions(a.v, b.v));
  return fixes[0]?.text ?? null;
}

export function severityOf(advisory: OsvAdvisory): string {
  const ghsa = advisory.database_specific?.severity;
  if (ghsa) return ghsa.toLowerCase();
  const score = advisory.severity?.[0]?.score;
  return score ?? 'unknown';
}

// ---------- the production dependency tree (package-lock.json v2/v3 "packages") ----------

export interface LockEntry {
  version?: string;
  name?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

export interface PackageLock {
  name?: string;
  packages?: Record<string, LockEntry>;
}

export interface InstalledPackage {
  name: string;
  version: string;
  /** The package-lock key, e.g. node_modules/fastify/node_modules/semver. */
  location: string;
  /** From our package.json down to this package, e.g. ["fastify", "semver"]. */
  path: string[];
  optional: boolean;
}

function nameAt(location: string): string {
  const i = location.lastIndexOf('node_modules/');
  return location.slice(i + 'node_modules/'.length);
}

function parentOf(location: string): string | null {
  if (location === '') return null;
  const i = location.lastIndexOf('/node_modules/');
  return i < 0 ? '' : location.slice(0, i);
}

/** Node's resolution over lock keys: the nearest node_modules/<name> going up from `from`. */
export function resolveIn(
  packages: Record<string, LockEntry>,
  from: string,
  name: string,
): string | null {
  for (let base: string | null = from; base !== null; base = parentOf(base)) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
  }
  return null;
}

/**
 * What `npm ls --omit=dev --all` shows: every package reachable from the root's dependencies and
 * optionalDependencies (never its devDependencies), breadth first, so each gets its shortest path.
 */
export function productionPackages(lock: PackageLock): InstalledPackage[] {
  const packages = lock.packages ?? {};
  const root = packages[''] ?? {};
  const seen = new Map<string, InstalledPackage>();
  const queue: { from: string; name: string; path: string[]; optional: boolean }[] = [];
  const enqueue = (from: string, entry: LockEntry, path: string[], optional: boolean) => {
    for (const name of Object.keys(entry.dependencies ?? {})) {
      queue.push({ from, name, path, optional });
    }
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      queue.push({ from, name, path, optional: true });
    }
    if (from !== '') {
      for (const name of Object.keys(entry.peerDependencies ?? {})) {
        const peerOptional = entry.peerDependenciesMeta?.[name]?.optional === true;
        queue.push({ from, name, path, optional: optional || peerOptional });
      }
    }
  };
  enqueue('', root, [], false);
  while (queue.length > 0) {
    const next = queue.shift();
    if (!next) break;
    let location = resolveIn(packages, next.from, next.name);
    if (location === null) continue; // an optional dependency not in the lock, or an absent peer
    let entry = packages[location];
    if (entry?.link && entry.resolved && packages[entry.resolved]) {
      location = entry.resolved;
      entry = packages[location];
    }
    if (!entry || seen.has(location)) continue;
    const path = [...next.path, next.name];
    seen.set(location, {
      name: entry.name ?? nameAt(location),
      version: entry.version ?? '',
      location,
      path,
      optional: next.optional,
    });
    enqueue(location, entry, path, next.optional);
  }
  return [...seen.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.location.localeCompare(b.location),
  );
}

// ---------- findings ----------

export interface Finding {
  package: string;
  version: string;
  advisory: string;
  aliases: string[];
  severity: string;
  summary: string;
  fixed: string | null;
  path: string[];
}

export function audit(installed: InstalledPackage[], advisories: OsvAdvisory[]): Finding[] {
  const byName = new Map<string, InstalledPackage[]>();
  for (const p of installed) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const findings: Finding[] = [];
  for (const advisory of advisories) {
    if (advisory.withdrawn) continue;
    const hit = new Set<string>();
    for (const entry of advisory.affected ?? []) {
      if (entry.package?.ecosystem !== 'npm' || !entry.package.name) continue;
      for (const p of byName.get(entry.package.name) ?? []) {
        if (hit.has(p.location) || !affects(entry, p.version)) continue;
        hit.add(p.location);
        findings.push({
          package: p.name,
          version: p.version,
          advisory: advisory.id,
          aliases: advisory.aliases ?? [],
          severity: severityOf(advisory),
          summary: (advisory.summary ?? '').replace(/\s+/g, ' ').trim(),
          fixed: fixedVersion(entry, p.version),
          path: p.path,
        });
      }
    }
  }
  return findings.sort(
    (a, b) => a.package.localeCompare(b.package) || a.advisory.localeCompare(b.advisory),
  );
}

/** Only what an npm advisory could concern, so a 300k-file database parses quickly. */
export function mentionsNpm(json: string): boolean {
  return /"ecosystem"\s*:\s*"npm"/.test(json);
}

export function formatTable(findings: Finding[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = findings.map(
    (f) =>
      `| ${cell(f.package)} | ${f.version} | ${f.advisory} | ${f.severity} | ${cell(f.summary)} | ${
        f.fixed ?? 'none'
      } | ${cell(f.path.join(' > '))} |`,
  );
  return [
    '| package | installed | advisory | severity | summary | fixed in | path |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

// ---------- reading advisories (a directory of OSV JSON, or a git directory) and the CLI ----------

function* jsonFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) {
      if (name !== '.git') yield* jsonFiles(full);
    } else if (name.endsWith('.json')) yield full;
  }
}

function parseAdvisory(text: string): OsvAdvisory | null {
  if (!mentionsNpm(text)) return null;
  try {
    const parsed = JSON.parse(text) as OsvAdvisory;
    return typeof parsed.id === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

function isGitDir(path: string): boolean {
  return existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects'));
}

/** Every blob under advisories/github-reviewed at HEAD, read in one `git cat-file --batch`. */
async function readGitAdvisories(gitDir: string): Promise<OsvAdvisory[]> {
  const listing = execFileSync(
    'git',
    ['--git-dir', gitDir, 'ls-tree', '-r', 'HEAD', '--', 'advisories/github-reviewed'],
    { maxBuffer: 1 << 30, encoding: 'utf8' },
  );
  const blobs = listing
    .split('\n')
    .map((line) => /^\d+ blob ([0-9a-f]+)\t(.+\.json)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1] ?? '');
  const child = spawn('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(blobs.join('\n') + '\n');
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  const advisories: OsvAdvisory[] = [];
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(10, at);
    if (eol < 0) break;
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isFinite(size)) break;
    const advisory = parseAdvisory(out.subarray(eol + 1, eol + 1 + size).toString('utf8'));
    if (advisory) advisories.push(advisory);
    at = eol + 1 + size + 1;
  }
  return advisories;
}

export async function loadAdvisories(
  source: string,
): Promise<{ advisories: OsvAdvisory[]; origin: string }> {
  if (isGitDir(source)) {
    const head = execFileSync(
      'git',
      ['--git-dir', source, 'log', '-1', '--format=%H %cI', 'HEAD'],
      { encoding: 'utf8' },
    ).trim();
    return { advisories: await readGitAdvisories(source), origin: `git ${source} at ${head}` };
  }
  const advisories: OsvAdvisory[] = [];
  for (const file of jsonFiles(source)) {
    const advisory = parseAdvisory(readFileSync(file, 'utf8'));
    if (advisory) advisories.push(advisory);
  }
  return { advisories, origin: `directory ${source}` };
}

async function main(argv: string[]): Promise<number> {
  let lockPath = 'package-lock.json';
  let json = false;
  let source = process.env.ADVISORY_DB;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--lock') lockPath = argv[++i] ?? lockPath;
    else if (arg === '--json') json = true;
    else if (arg) source = arg;
  }
  if (!source) {
    console.error(
      'usage: npm run audit:offline -- <advisory dir or git dir> [--lock package-lock.json] [--json]\n' +
        '       (or ADVISORY_DB=<path>)',
    );
    return 2;
  }
  const lock = JSON.parse(readFileSync(resolve(lockPath), 'utf8')) as PackageLock;
  const installed = productionPackages(lock);
  const { advisories, origin } = await loadAdvisories(resolve(source));
  const findings = audit(installed, advisories);
  if (json) {
    console.log(JSON.stringify({ origin, advisories: advisories.length, findings }, null, 2));
  } else {
    console.log(
      `${installed.length} production packages (${lockPath}) against ${advisories.length} npm advisories (${origin}): ${findings.length} finding(s)`,
    );
    if (findings.length > 0) console.log(formatTable(findings));
  }
  return findings.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
