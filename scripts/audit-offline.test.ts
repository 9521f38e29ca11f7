// The offline audit's core: semver precedence, OSV range semantics, the production tree from a
// package-lock, the findings table, and reading advisories from a folder or a git directory.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  affects,
  audit,
  compareVersions,
  fixedVersion,
  formatTable,
  inRange,
  loadAdvisories,
  mentionsNpm,
  parseVersion,
  productionPackages,
  resolveIn,
  severityOf,
  type OsvAdvisory,
  type OsvEvent,
  type PackageLock,
} from './audit-offline.ts';

const v = (text: string) => {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(`not a version: ${text}`);
  return parsed;
};
const cmp = (a: string, b: string) => Math.sign(compareVersions(v(a), v(b)));

describe('versions', () => {
  it('parses x.y.z with pre-release and build, and the short forms advisories use', () => {
    expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, pre: [] });
    expect(parseVersion('v1.2.3-rc.1+build.5')).toEqual({
      major: 1,
      minor: 2,
      patch: 3,
      pre: ['rc', 1],
    });
    expect(parseVersion('4')).toEqual({ major: 4, minor: 0, patch: 0, pre: [] });
    expect(parseVersion('4.1')).toEqual({ major: 4, minor: 1, patch: 0, pre: [] });
    expect(parseVersion('1.2.3.4')).toBeNull();
    expect(parseVersion('01.2.3')).toBeNull();
    expect(parseVersion('latest')).toBeNull();
  });

  it('orders by semver precedence: numbers numerically, pre-releases before the release', () => {
    expect(cmp('1.2.3', '1.2.3')).toBe(0);
    expect(cmp('1.2.3', '1.2.10')).toBe(-1);
    expect(cmp('1.10.0', '1.9.9')).toBe(1);
    expect(cmp('2.0.0', '10.0.0')).toBe(-1);
    expect(cmp('1.0.0-alpha', '1.0.0')).toBe(-1);
    expect(cmp('1.0.0', '1.0.0-rc.1')).toBe(1);
    expect(cmp('1.0.0+build', '1.0.0')).toBe(0);
    // The semver 2.0 spec's own example chain.
    const chain = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    for (let i = 1; i < chain.length; i++) expect(cmp(chain[i - 1] ?? '', chain[i] ?? '')).toBe(-1);
  });
});

describe('OSV SEMVER ranges', () => {
  const range = (...events: OsvEvent[]) => events;

  it('introduced is inclusive, fixed exclusive, "0" means from the start', () => {
    const events = range({ introduced: '0' }, { fixed: '4.2.1' });
    expect(inRange(v('0.0.0'), events)).toBe(true);
    expect(inRange(v('4.2.0'), events)).toBe(true);
    expect(inRange(v('4.2.1-beta.1'), events)).toBe(true);
    expect(inRange(v('4.2.1'), events)).toBe(false);
    expect(inRange(v('5.0.0'), events)).toBe(false);
    const from = range({ introduced: '5.0.0' }, { fixed: '5.3.2' });
    expect(inRange(v('4.9.9'), from)).toBe(false);
    expect(inRange(v('5.0.0'), from)).toBe(true);
    expect(inRange(v('5.3.1'), from)).toBe(true);
  });

  it('last_affected is inclusive; an open introduced affects everything after it', () => {
    const events = range({ introduced: '1.0.0' }, { last_affected: '1.4.0' });
    expect(inRange(v('1.4.0'), events)).toBe(true);
    expect(inRange(v('1.4.1'), events)).toBe(false);
    expect(inRange(v('0.9.0'), events)).toBe(false);
    expect(inRange(v('7.0.0'), range({ introduced: '2.0.0' }))).toBe(true);
  });

  it('several introduced/fixed pairs in one range, in any order', () => {
    const events = range(
      { fixed: '3.0.5' },
      { introduced: '4.0.0' },
      { introduced: '0' },
      { fixed: '4.1.2' },
    );
    expect(inRange(v('3.0.4'), events)).toBe(true);
    expect(inRange(v('3.0.5'), events)).toBe(false);
    expect(inRange(v('3.9.0'), events)).toBe(false);
    expect(inRange(v('4.1.1'), events)).toBe(true);
    expect(inRange(v('4.1.2'), events)).toBe(false);
  });

  it('an affected entry matches its explicit versions too, and gives the next fixed version', () => {
    const entry = {
      package: { ecosystem: 'npm', name: 'x' },
      ranges: [
        { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.1' }] },
        { type: 'SEMVER', events: [{ introduced: '3.0.0' }, { fixed: '3.1.0' }] },
      ],
      versions: ['9.9.9'],
    };
    expect(affects(entry, '9.9.9')).toBe(true);
    expect(affects(entry, '3.0.7')).toBe(true);
    expect(affects(entry, '2.5.0')).toBe(false);
    expect(affects(entry, 'not-a-version')).toBe(false);
    expect(fixedVersion(entry, '3.0.7')).toBe('3.1.0');
    expect(fixedVersion(entry, '1.0.0')).toBe('2.0.1');
    expect(
      fixedVersion({ ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }, '1.0.0'),
    ).toBeNull();
  });

  it('reads two versions in one field on the safe side, and leaves an unreadable fix open', () => {
    const two = range({ introduced: '6.10.0' }, { fixed: '7.2.4, 6.11.4' });
    expect(inRange(v('6.11.5'), two)).toBe(true);
    expect(inRange(v('7.2.4'), two)).toBe(false);
    expect(inRange(v('9.0.0'), range({ introduced: '1.0.0' }, { fixed: 'unknown' }))).toBe(true);
  });

  it('ignores GIT ranges, which have no semver versions', () => {
    const entry = { ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] };
    expect(affects(entry, '1.0.0')).toBe(false);
  });
});

// A lock with: a production tree with a nested copy, a dev-only tree, and an optional package.
const lock: PackageLock = {
  name: 'app',
  packages: {
    '': {
      dependencies: { web: '^1.0.0' },
      optionalDependencies: { opt: '^1.0.0' },
      devDependencies: { tester: '^1.0.0' },
    },
    'node_modules/web': { version: '1.2.0', dependencies: { semver: '^7.0.0', util: '^1.0.0' } },
    'node_modules/web/node_modules/semver': { version: '7.1.0' },
    'node_modules/util': { version: '1.0.0', dependencies: { semver: '^6.0.0' } },
    'node_modules/semver': { version: '6.3.0' },
    'node_modules/opt': { version: '1.0.0', optional: true, dependencies: {} },
    'node_modules/tester': { version: '1.0.0', dev: true, dependencies: { lodash: '^4.0.0' } },
    'node_modules/lodash': { version: '4.17.20', dev: true },
  },
};

describe('the production tree', () => {
  it("resolves as node does: the nearest node_modules going up from the dependent's folder", () => {
    const packages = lock.packages ?? {};
    expect(resolveIn(packages, 'node_modules/web', 'semver')).toBe(
      'node_modules/web/node_modules/semver',
    );
    expect(resolveIn(packages, 'node_modules/util', 'semver')).toBe('node_modules/semver');
    expect(resolveIn(packages, 'node_modules/web', 'missing')).toBeNull();
  });

  it('holds what the root depends on, not its devDependencies, each with a path from the root', () => {
    const found = productionPackages(lock).map((p) => [p.location, p.version, p.path.join(' > ')]);
    expect(found).toEqual([
      ['node_modules/opt', '1.0.0', 'opt'],
      ['node_modules/semver', '6.3.0', 'web > util > semver'],
      ['node_modules/web/node_modules/semver', '7.1.0', 'web > semver'],
      ['node_modules/util', '1.0.0', 'web > util'],
      ['node_modules/web', '1.2.0', 'web'],
    ]);
    expect(productionPackages(lock).find((p) => p.name === 'opt')?.optional).toBe(true);
  });
});

describe('findings', () => {
  const advisory = (over: Partial<OsvAdvisory> & { id: string }): OsvAdvisory => ({
    summary: 'A flaw',
    database_specific: { severity: 'MODERATE' },
    ...over,
  });
  const semverRedos = advisory({
    id: 'GHSA-c2qf-rxjj-qqgw',
    summary: 'semver vulnerable to  ReDoS',
    affected: [
      {
        package: { ecosystem: 'npm', name: 'semver' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '7.0.0' }, { fixed: '7.5.2' }] }],
      },
      {
        package: { ecosystem: 'npm', name: 'semver' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '5.7.2' }] }],
      },
    ],
  });
  const others = [
    advisory({
      id: 'GHSA-dev-only',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'lodash' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
        },
      ],
    }),
    advisory({
      id: 'GHSA-other-ecosystem',
      affected: [
        {
          package: { ecosystem: 'PyPI', name: 'web' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
        },
      ],
    }),
    advisory({
      id: 'GHSA-withdrawn',
      withdrawn: '2024-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'npm', name: 'web' }, versions: ['1.2.0'] }],
    }),
  ];

  it('reports each affected production copy once, with its fix and path; not dev, not other ecosystems', () => {
    const findings = audit(productionPackages(lock), [semverRedos, ...others]);
    expect(findings).toEqual([
      {
        package: 'semver',
        version: '7.1.0',
        advisory: 'GHSA-c2qf-rxjj-qqgw',
        aliases: [],
        severity: 'moderate',
        summary: 'semver vulnerable to ReDoS',
        fixed: '7.5.2',
        path: ['web', 'semver'],
      },
    ]);
  });

  it('severity from GHSA, else the CVSS vector', () => {
    expect(severityOf(advisory({ id: 'a', database_specific: { severity: 'HIGH' } }))).toBe('high');
    expect(severityOf({ id: 'b', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' }] })).toBe(
      'CVSS:3.1/AV:N',
    );
    expect(severityOf({ id: 'c' })).toBe('unknown');
  });

  it('prints a markdown table', () => {
    const table = formatTable(audit(productionPackages(lock), [semverRedos]));
    expect(table.split('\n')).toEqual([
      '| package | installed | advisory | severity | summary | fixed in | path |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| semver | 7.1.0 | GHSA-c2qf-rxjj-qqgw | moderate | semver vulnerable to ReDoS | 7.5.2 | web > semver |',
    ]);
  });

  it('pre-filters files that name no npm package', () => {
    expect(mentionsNpm('{"affected":[{"package":{"ecosystem": "npm","name":"x"}}]}')).toBe(true);
    expect(mentionsNpm('{"affected":[{"package":{"ecosystem":"Maven","name":"npm"}}]}')).toBe(
      false,
    );
  });
});

describe('reading advisories', () => {
  const osv = (id: string, ecosystem: string) =>
    JSON.stringify({
      id,
      affected: [{ package: { ecosystem, name: 'web' }, versions: ['1.2.0'] }],
    });
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'audit-offline-'));
    const dir = join(root, 'advisories/github-reviewed/2025/01/GHSA-aaaa');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'GHSA-aaaa.json'), osv('GHSA-aaaa', 'npm'));
    writeFileSync(join(dir, '../GHSA-bbbb.json'), osv('GHSA-bbbb', 'Go'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'snapshot');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('from a directory of OSV files: only npm ones', async () => {
    const { advisories } = await loadAdvisories(root);
    expect(advisories.map((a) => a.id)).toEqual(['GHSA-aaaa']);
  });

  it('from a git directory (a bare snapshot), at HEAD', async () => {
    const { advisories, origin } = await loadAdvisories(join(root, '.git'));
    expect(advisories.map((a) => a.id)).toEqual(['GHSA-aaaa']);
    expect(origin).toMatch(/^git .* at [0-9a-f]{40} \d{4}-/);
  });
});
