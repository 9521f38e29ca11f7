// PostgreSQL 15 from Debian with wal_level=logical, as its own cluster under the state dir.
// PostgreSQL refuses to run as root, so the server runs as the `postgres` system user.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import pg from 'pg';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { PrerequisiteError } from '../../../core/errors.ts';
import { nativePostgresPassword } from '../../../core/native-postgres-password.ts';
import { servicePaths, type NativeService, type StackContext } from '../native-service.ts';
import { POSTGRES_BIN } from '../prerequisites.ts';
import { runCommand } from '../run-command.ts';
import {
  ensureShipmentStateTable,
  ensureShipmentsTable,
} from '../../../schemas/platform-tables.ts';

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

/** The cluster's superuser over TCP, with the stack's generated password. */
function superuserUrl(config: Config): string {
  const { host, port } = hostPortOf(config.postgres.url, 5432);
  const password = encodeURIComponent(nativePostgresPassword(config.stateDir));
  return `postgres://postgres:${password}@${host}:${port}/postgres`;
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
    await requirePasswords(ctx);
    // The platform's tables, so that a CDC source started before the first write streams it,
    // and the processes started next find them instead of racing to create them.
    const pool = new pg.Pool({ connectionString: ctx.config.postgres.url, max: 1 });
    try {
      await ensureShipmentsTable(pool);
      await ensureShipmentStateTable(pool);
    } finally {
      await pool.end();
    }
  },
};

/** pg_hba.conf with every host line's `trust` made `scram-sha-256` (local lines as they were). */
export function passwordsForHostConnections(hba: string): string {
  return hba.replace(/^(host\S*\s.*\s)trust[ \t]*$/gm, '$1scram-sha-256');
}

/**
 * Connections over TCP need a password from now on: the superuser gets the stack's generated
 * one, and pg_hba.conf's `trust` for host connections (initdb's, or a cluster made before)
 * becomes `scram-sha-256`. Local socket connections stay trusted: the socket is in the data
 * folder, which only the server's user (and root) can enter.
 */
async function requirePasswords(ctx: StackContext): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl(ctx.config) });
  await client.connect();
  try {
    await client.query(
      `ALTER ROLE postgres PASSWORD ${client.escapeLiteral(nativePostgresPassword(ctx.config.stateDir))}`,
    );
    const { rows } = await client.query<{ hba_file: string }>('SHOW hba_file');
    const hbaFile = rows[0]?.hba_file;
    if (!hbaFile) return;
    const before = await readFile(hbaFile, 'utf8');
    const after = passwordsForHostConnections(before);
    if (after === before) return;
    await writeFile(hbaFile, after);
    await client.query('SELECT pg_reload_conf()');
    ctx.log.info({ hbaFile }, 'PostgreSQL now asks host connections for a password');
  } finally {
    await client.end();
  }
}

/** The role and database named in CONTINUUM_POSTGRES_URL, with the rights CDC needs. */
async function ensureRoleAndDatabase(ctx: StackContext): Promise<void> {
  const target = new URL(ctx.config.postgres.url);
  const role = decodeURIComponent(target.username || 'continuum');
  const database = decodeURIComponent(target.pathname.replace(/^\//, '') || role);
  const client = new pg.Client({ connectionString: superuserUrl(ctx.config) });
  await client.connect();
  try {
    const ident = (s: string): string => client.escapeIdentifier(s);
    // The URL's password when it names one, else the stack's generated one.
    const password = ` PASSWORD ${client.escapeLiteral(
      target.password
        ? decodeURIComponent(target.password)
        : nativePostgresPassword(ctx.config.stateDir),
    )}`;
    const roleExists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (roleExists.rowCount === 0) {
      await client.query(`CREATE ROLE ${ident(role)} LOGIN REPLICATION CREATEDB${password}`);
    } else {
      // A cluster made before passwords (trust) gets them now; the same one again is a no-op.
      await client.query(`ALTER ROLE ${ident(role)}${password}`);
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
