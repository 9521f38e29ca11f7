// PostgreSQL 15 from Debian with wal_level=logical, as its own cluster under the state dir.
// PostgreSQL refuses to run as root, so the server runs as the `postgres` system user.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import nodePath from 'node:path';
import pg from 'pg';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { PrerequisiteError } from '../../../core/errors.ts';
import { servicePaths, type NativeService, type StackContext } from '../native-service.ts';
import { POSTGRES_BIN } from '../prerequisites.ts';
import { runCommand } from '../run-command.ts';
import { ensureShipmentsTable } from '../../../schemas/platform-tables.ts';

interface SystemUser {
  uid: number;
  gid: number;
}

function lookupUser(name: string): SystemUser | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The user the server runs as: `postgres` when we are root, else ourselves. */
function serverUser(): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = lookupUser('postgres');
  if (!user) {
    throw new PrerequisiteError(
      'running as root, but there is no `postgres` user to run PostgreSQL as',
      'apt-get install -y postgresql-15',
    );
  }
  return user;
}

/**
 * The cluster lives under the state dir unless the server's user cannot reach it (a checkout
 * inside a private folder); then under /var/tmp, in a folder named after the state dir.
 */
async function clusterDir(config: Config): Promise<string> {
  const preferred = servicePaths(config, 'postgres').dataDir;
  const user = serverUser();
  if (!user) return preferred;
  await mkdir(config.stateDir, { recursive: true });
  const reachable = await runCommand('test', ['-x', config.stateDir], {
    uid: user.uid,
    gid: user.gid,
  }).then(
    () => true,
    () => false,
  );
  if (reachable) return preferred;
  const tag = createHash('sha256').update(config.stateDir).digest('hex').slice(0, 12);
  return `/var/tmp/continuum-postgres-${tag}`;
}

function superuserUrl(config: Config): string {
  const { host, port } = hostPortOf(config.postgres.url, 5432);
  return `postgres://postgres@${host}:${port}/postgres`;
}

export const postgresService: NativeService = {
  name: 'postgres',
  dependsOn: [],
  url: (config) => config.postgres.url,
  install: () => Promise.resolve(),

  async prepare(ctx) {
    const dataDir = await clusterDir(ctx.config);
    const user = serverUser();
    await mkdir(servicePaths(ctx.config, 'postgres').dir, { recursive: true });
    if (existsSync(nodePath.join(dataDir, 'PG_VERSION'))) return;
    ctx.report('postgres', 'initdb');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user) await chown(dataDir, user.uid, user.gid);
    await runCommand(
      `${POSTGRES_BIN}/initdb`,
      ['-D', dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
      user ? { uid: user.uid, gid: user.gid } : {},
    );
  },

  async launch(ctx) {
    const dataDir = await clusterDir(ctx.config);
    const { host, port } = hostPortOf(ctx.config.postgres.url, 5432);
    const user = serverUser();
    return {
      command: `${POSTGRES_BIN}/postgres`,
      args: [
        '-D',
        dataDir,
        '-c',
        `listen_addresses=${host}`,
        '-c',
        `port=${port}`,
        '-c',
        `unix_socket_directories=${dataDir}`,
        '-c',
        'wal_level=logical',
        '-c',
        'max_replication_slots=20',
        '-c',
        'max_wal_senders=20',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=128MB',
        '-c',
        'logging_collector=off',
      ],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    };
  },

  async probe(ctx) {
    const client = new pg.Client({
      connectionString: superuserUrl(ctx.config),
      connectionTimeoutMillis: 2_000,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string; wal_level: string }>(
        "SELECT current_setting('server_version') AS version, current_setting('wal_level') AS wal_level",
      );
      const row = rows[0];
      if (row?.wal_level !== 'logical')
        return {
          ok: false,
          version: row?.version,
          detail: `wal_level is ${row?.wal_level}, not logical`,
        };
      return { ok: true, version: row.version };
    } finally {
      await client.end();
    }
  },

  async afterReady(ctx) {
    await ensureRoleAndDatabase(ctx);
    // The platform's tables, so that a CDC source started before the first write streams it.
    const pool = new pg.Pool({ connectionString: ctx.config.postgres.url, max: 1 });
    try {
      await ensureShipmentsTable(pool);
    } finally {
      await pool.end();
    }
  },
};

/** The role and database named in CONTINUUM_POSTGRES_URL, with the rights CDC needs. */
async function ensureRoleAndDatabase(ctx: StackContext): Promise<void> {
  const target = new URL(ctx.config.postgres.url);
  const role = decodeURIComponent(target.username || 'continuum');
  const database = decodeURIComponent(target.pathname.replace(/^\//, '') || role);
  const client = new pg.Client({ connectionString: superuserUrl(ctx.config) });
  await client.connect();
  try {
    const ident = (s: string): string => client.escapeIdentifier(s);
    const password = target.password
      ? ` PASSWORD ${client.escapeLiteral(decodeURIComponent(target.password))}`
      : '';
    const roleExists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (roleExists.rowCount === 0) {
      await client.query(`CREATE ROLE ${ident(role)} LOGIN REPLICATION CREATEDB${password}`);
    }
    const dbExists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (dbExists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(role)}`);
      ctx.log.info({ role, database }, 'created PostgreSQL role and database');
    }
  } finally {
    await client.end();
  }
}
