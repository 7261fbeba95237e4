import type { SqlClient } from './sql-client'

/**
 * Migrations are SQL kept in the code (so the Workers bundle carries them too), applied in
 * order at start, each once, the same on PGlite and PostgreSQL. An advisory lock keeps two
 * processes starting together from applying one twice. Never edit a released migration: add one.
 */
export const MIGRATIONS: Array<{ id: string; sql: string }> = [
  {
    id: '001_licences',
    sql: `
CREATE TABLE sequences (
  name text PRIMARY KEY,
  value integer NOT NULL
);

CREATE TABLE status_lists (
  id text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
  size integer NOT NULL CHECK (size > 0),
  used integer NOT NULL DEFAULT 0 CHECK (used <= size),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE licences (
  id uuid PRIMARY KEY,
  number text NOT NULL UNIQUE,
  serial text NOT NULL,
  version integer NOT NULL CHECK (version BETWEEN 1 AND 999),
  type_key text NOT NULL,
  type_code text NOT NULL,
  holder jsonb NOT NULL,
  holder_key text NOT NULL,
  fields jsonb NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_until timestamptz NOT NULL CHECK (valid_until > valid_from),
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'superseded')),
  status_reason text,
  revocation_list text NOT NULL REFERENCES status_lists (id),
  revocation_index integer NOT NULL,
  suspension_list text NOT NULL REFERENCES status_lists (id),
  suspension_index integer NOT NULL,
  issued_at timestamptz NOT NULL,
  credential text NOT NULL,
  supersedes uuid REFERENCES licences (id),
  UNIQUE (serial, version),
  UNIQUE (revocation_list, revocation_index),
  UNIQUE (suspension_list, suspension_index)
);
CREATE INDEX licences_holder_key ON licences (holder_key);

CREATE TABLE licence_events (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  licence_id uuid NOT NULL REFERENCES licences (id),
  action text NOT NULL,
  reason text,
  actor text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX licence_events_licence ON licence_events (licence_id, id);

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

CREATE TABLE trust_list_state (
  id integer PRIMARY KEY CHECK (id = 1),
  sequence integer NOT NULL,
  content_hash text NOT NULL,
  jws text NOT NULL,
  valid_until timestamptz NOT NULL
);
`,
  },
  {
    id: '002_seals',
    sql: `
CREATE TABLE enterprise_credentials (
  uscc text PRIMARY KEY,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

CREATE TABLE seals (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('official', 'finance', 'invoice', 'contract', 'legal_representative')),
  owner_uscc text NOT NULL,
  owner_name text NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'revoked')),
  status_reason text,
  key_source text NOT NULL CHECK (key_source IN ('service', 'pkcs12')),
  algorithm text NOT NULL CHECK (algorithm IN ('ES256', 'RS256')),
  certificate text NOT NULL,
  chain jsonb NOT NULL,
  certificate_sha256 text NOT NULL,
  ses_seal text NOT NULL,
  image_svg text NOT NULL,
  wrapped_key text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX seals_one_active_kind ON seals (owner_uscc, kind) WHERE status = 'active';
CREATE INDEX seals_certificate ON seals (certificate_sha256);

CREATE TABLE seal_uses (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seal_id uuid NOT NULL REFERENCES seals (id),
  actor text NOT NULL,
  purpose text NOT NULL,
  document_sha256 text NOT NULL,
  signed_sha256 text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX seal_uses_seal ON seal_uses (seal_id, id);

CREATE TABLE trust_anchors (
  id uuid PRIMARY KEY,
  sha256 text NOT NULL UNIQUE,
  subject text NOT NULL,
  label text,
  certificate text NOT NULL,
  created_at timestamptz NOT NULL
);
`,
  },
  {
    id: '005_partners',
    sql: `
CREATE TABLE partners (
  code text PRIMARY KEY,
  name text NOT NULL,
  descriptor_url text NOT NULL,
  root_sha256 text NOT NULL,
  base_url text NOT NULL,
  trust_list_jws text NOT NULL,
  trust_list_sequence integer NOT NULL,
  trust_list_hash text NOT NULL,
  trust_list_valid_until timestamptz NOT NULL,
  registered_at timestamptz NOT NULL,
  refreshed_at timestamptz NOT NULL,
  last_attempt_at timestamptz NOT NULL,
  last_problem text
);

-- Nonces of accepted partner requests, kept until their signature expires: a nonce seen twice is a replay.
CREATE TABLE partner_nonces (
  region text NOT NULL,
  nonce text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (region, nonce)
);
CREATE INDEX partner_nonces_expiry ON partner_nonces (expires_at);
`,
  },
  {
    id: '006_applications',
    sql: `
CREATE TABLE applications (
  id uuid PRIMARY KEY,
  matter_code text NOT NULL,
  applicant jsonb NOT NULL,
  applicant_key text NOT NULL,
  form jsonb NOT NULL,
  attachments jsonb NOT NULL,
  accepting_region jsonb NOT NULL,
  handling_region jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('received', 'accepted', 'in_review', 'more_requested', 'approved', 'rejected', 'withdrawn')),
  resume_status text,
  licence_id uuid REFERENCES licences (id),
  sequence integer NOT NULL CHECK (sequence >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX applications_applicant ON applications (applicant_key);

CREATE TABLE application_events (
  application_id uuid NOT NULL REFERENCES applications (id),
  sequence integer NOT NULL CHECK (sequence >= 1),
  action text NOT NULL,
  from_status text,
  to_status text NOT NULL,
  actor text NOT NULL,
  reason text,
  detail jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (application_id, sequence)
);
`,
  },
  {
    id: '007_audit',
    sql: `
-- The append-only audit log: a hash chain (src/core/audit/audit-chain.ts). The trigger refuses
-- UPDATE and DELETE, so the service itself cannot rewrite history; the hashes and the signed
-- checkpoints catch anyone who goes around it.
CREATE TABLE audit_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  at text NOT NULL,
  kind text NOT NULL,
  detail jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);

CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_entries is append-only';
END
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
`,
  },
  {
    id: '011_holders',
    sql: `
CREATE TABLE holder_credentials (
  id uuid PRIMARY KEY,
  holder jsonb NOT NULL,
  holder_key text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  label text,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX holder_credentials_holder ON holder_credentials (holder_key);

CREATE TABLE relying_parties (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('bank')),
  name text NOT NULL,
  branch text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  purposes jsonb NOT NULL,
  may_request jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);

-- A consent's code is kept only as its hash; uses never pass max_uses.
CREATE TABLE consents (
  id uuid PRIMARY KEY,
  code_hash text NOT NULL UNIQUE,
  holder_key text NOT NULL,
  relying_party_id uuid NOT NULL REFERENCES relying_parties (id),
  licence_ids jsonb NOT NULL,
  purpose text NOT NULL,
  fields jsonb NOT NULL,
  max_uses integer NOT NULL CHECK (max_uses >= 1),
  uses integer NOT NULL DEFAULT 0 CHECK (uses BETWEEN 0 AND max_uses),
  expires_at timestamptz NOT NULL,
  withdrawn_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX consents_holder ON consents (holder_key, created_at);

-- Wrong, expired, withdrawn, used-up and other banks' codes: counted per bank and per code to stop guessing.
CREATE TABLE consent_check_failures (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  relying_party_id uuid NOT NULL REFERENCES relying_parties (id),
  code_hash text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX consent_check_failures_party ON consent_check_failures (relying_party_id, at);
CREATE INDEX consent_check_failures_code ON consent_check_failures (code_hash, at);

CREATE TABLE licence_uses (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  licence_id uuid NOT NULL REFERENCES licences (id),
  holder_key text NOT NULL,
  user_kind text NOT NULL CHECK (user_kind IN ('bank', 'partner')),
  user_id text NOT NULL,
  user_name text NOT NULL,
  user_branch text,
  purpose text,
  consent_id uuid REFERENCES consents (id),
  indication text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX licence_uses_holder ON licence_uses (holder_key, id);
`,
  },
  {
    id: '008_agreements',
    sql: `
-- Cooperation agreements with partners (src/core/partner/agreement.ts): the signed JWS as held
-- here, the regions whose signatures were checked, the termination, and whether the partner
-- holds the same (delivery is retried until it does).
CREATE TABLE agreements (
  partner text NOT NULL,
  id text NOT NULL,
  partner_name text NOT NULL,
  terms jsonb NOT NULL,
  jws jsonb NOT NULL,
  signed_by jsonb NOT NULL,
  termination jsonb,
  delivered boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (partner, id)
);
`,
  },
  {
    id: '009_outbox',
    sql: `
-- The transactional outbox (docs/outbox.md): written in the transaction of the change that
-- causes a message, delivered afterwards by the dispatcher, at least once.
CREATE TABLE outbox_messages (
  id uuid PRIMARY KEY,
  position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  topic text NOT NULL,
  destination text NOT NULL,
  headers jsonb NOT NULL,
  body text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'abandoned')),
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  last_attempt_at timestamptz,
  last_error text,
  delivered_at timestamptz
);
-- The dispatcher's question, "what is due?", reads only pending rows.
CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at, position) WHERE state = 'pending';
CREATE INDEX outbox_messages_destination ON outbox_messages (destination);
`,
  },
  {
    id: '010_supervision',
    sql: `
-- Supervision systems (审管联动): each receives every licence event at its webhook and may
-- suspend or revoke a licence with requests signed by its key.
CREATE TABLE supervision_systems (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  webhook_url text NOT NULL,
  public_key jsonb NOT NULL,
  keyid text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
`,
  },
  {
    id: '012_licence_subscriptions',
    sql: `
-- A holder may let a bank be told of later status changes of the licences it checked.
ALTER TABLE consents ADD COLUMN status_updates boolean NOT NULL DEFAULT false;
-- Where a bank is told; registered by the bureau, never given in a request.
ALTER TABLE relying_parties ADD COLUMN webhook_url text;

CREATE TABLE licence_subscriptions (
  id uuid PRIMARY KEY,
  licence_id uuid NOT NULL REFERENCES licences (id),
  relying_party_id uuid NOT NULL REFERENCES relying_parties (id),
  consent_id uuid NOT NULL REFERENCES consents (id),
  created_at timestamptz NOT NULL,
  UNIQUE (licence_id, relying_party_id)
);
`,
  },
  {
    id: '013_cross_region_applications',
    sql: `
-- 远程办理 → 异地受理: the accepting region keeps the handling region's timeline, each step with
-- the handling region's signed statement of it (contracts/partner-api.md, "Application events").
ALTER TABLE application_events ADD COLUMN statement text;
-- What an outbox message is about (an application's id), so an application shows its messages.
ALTER TABLE outbox_messages ADD COLUMN subject text;
CREATE INDEX outbox_messages_subject ON outbox_messages (subject) WHERE subject IS NOT NULL;

-- 异地领证: the licence the handling region issued for an application accepted here, fetched,
-- verified with that region's trust list and kept here until it is handed over at the window.
CREATE TABLE licence_collections (
  application_id uuid PRIMARY KEY REFERENCES applications (id),
  issuing_region text NOT NULL,
  licence_id uuid NOT NULL,
  licence_number text NOT NULL,
  state text NOT NULL CHECK (state IN ('waiting', 'ready', 'failed', 'handed_over')),
  pdf text,
  credential text,
  verification jsonb,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  ready_at timestamptz,
  handed_over_at timestamptz,
  handed_over_by text
);
`,
  },
  {
    id: '014_attachments',
    sql: `
-- The documents applications name by SHA-256, held here: uploaded at the window, or fetched from
-- the region that accepted a forwarded application and checked against its digest. The content
-- is base64 text, as licence_collections.pdf is: the same parameter on PGlite and postgres.js.
CREATE TABLE attachments (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  media_type text NOT NULL,
  size integer NOT NULL CHECK (size > 0),
  content text NOT NULL,
  created_at timestamptz NOT NULL
);

-- Which documents held here were offered to which partner region for an application accepted
-- here (with its forward, or with a supplement asked of it): that region may fetch them, and
-- no other. Kept apart from applications.attachments: a supplement is offered when it is sent,
-- while this region's copy of the application does not change until the handling region answers.
CREATE TABLE attachment_offers (
  region text NOT NULL,
  sha256 text NOT NULL REFERENCES attachments (sha256),
  application_id uuid NOT NULL REFERENCES applications (id),
  PRIMARY KEY (region, sha256, application_id)
);
`,
  },
]

export async function migrate(db: SqlClient): Promise<string[]> {
  return db.transaction(async (tx) => {
    // The lock comes first: two processes running CREATE TABLE IF NOT EXISTS at once can both
    // pass the check, and one fails on PostgreSQL's catalog (pg_type_typname_nsp_index).
    await tx.query('SELECT pg_advisory_xact_lock(7261346)')
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    const applied = new Set((await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((row) => row.id))
    const pending = MIGRATIONS.filter((migration) => !applied.has(migration.id))
    for (const migration of pending) {
      await tx.exec(migration.sql)
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id])
    }
    return pending.map((migration) => migration.id)
  })
}
