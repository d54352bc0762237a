// The shape of `shipwarden.toml`, for a configuration built in code:
// `ReleaseManager.open(config)` accepts an object of this shape in place of
// the file (relative paths are relative to `baseDir`; `null` or `undefined`
// means the key is not given). `defaultConfig()` returns the commented file
// `shipwarden init` writes.
//
// Generated from the Rust types by adapters/tests/config_types.rs: do not edit.

/**
 * The whole file.
 */
export interface Config {
  /**
   * `[approval_links]`: one-time approve / reject links in mailed
   * approval requests (issue #23), read by the SMTP notifier and `serve`.
   */
  approval_links?: ApprovalLinksConfig | null
  /**
   * `[artifacts]`: where artifacts are kept (default: `STATE_DIR/artifacts`).
   */
  artifacts?: ArtifactsConfig
  /**
   * `[backup]`.
   */
  backup?: BackupConfig | null
  /**
   * `[build]`.
   */
  build?: BuildConfig | null
  /**
   * `[engine]`.
   */
  engine?: EngineSettings
  /**
   * `[environments.NAME]`.
   */
  environments?: { [key: string]: Environment }
  /**
   * `[[escalation]]` (R-2e).
   */
  escalation?: Escalation[]
  /**
   * `[evidence]`: how evidence bundles are signed and checked (R-9d).
   */
  evidence?: EvidenceConfig
  /**
   * `[identity]`: which proofs of who acts each action needs, and where
   * users' SSH keys are listed (issue #19).
   */
  identity?: IdentityConfig
  /**
   * `[notes]`: where release notes are published besides `STATE_DIR/notes`.
   */
  notes?: NotesConfig
  /**
   * `[notify]`: who is told besides `notices.jsonl`.
   */
  notify?: NotifyConfig
  /**
   * `[policy]`: overrides of the default policy.
   */
  policy?: { [key: string]: unknown }
  /**
   * `[project]`.
   */
  project: Project
  /**
   * `[server]`: how `shipwarden serve` listens and whom it trusts (issue #21).
   */
  server?: ServerConfig
  /**
   * `[store]`: `kind = "sqlite"` (default) or `"postgres"`.
   */
  store?: StoreConfig
  /**
   * `[ticketing]`: shipwarden's own tickets (default), Jira Cloud or GitHub Issues.
   */
  ticketing?: TicketingConfig
  /**
   * `[users.NAME]`.
   */
  users?: { [key: string]: User }
  /**
   * `[vcs]`.
   */
  vcs?: VcsConfig
}

/**
 * `[approval_links]`: mailed approval requests carry each approver's own
 * signed, expiring, single-use Approve and Reject links to the console
 * (issue #23); `serve` checks and records them.
 */
export interface ApprovalLinksConfig {
  /**
   * The console's base URL (`https://releases.example.com`): links go to
   * `{console_url}/console/confirm?t=…`.
   */
  console_url: string
  /**
   * The environment variable holding the key links are signed with
   * (HMAC-SHA256, at least 32 bytes); the same for the mailer and `serve`.
   */
  secret_env: string
}

/**
 * `kind = "fs"`: A content-addressed folder in the state folder.
 */
export interface ArtifactsFs {
  kind?: "fs"
}

/**
 * `kind = "oci"`: An OCI registry (Harbor, GHCR, ECR, Artifactory).
 */
export interface ArtifactsOci {
  /**
   * Plain HTTP (a registry on loopback or a private network).
   */
  insecure_http?: boolean
  kind: "oci"
  /**
   * The layer's media type.
   */
  media_type?: string | null
  /**
   * The namespace repositories live under (`acme/releases`; default: the project's name).
   */
  namespace?: string | null
  /**
   * The environment variable holding the password or token.
   */
  password_env?: string | null
  /**
   * The registry (`ghcr.io`, `harbor.example.com`, `127.0.0.1:5000`).
   */
  registry?: string | null
  /**
   * The user to sign in as.
   */
  user?: string | null
}

/**
 * `[artifacts]`.
 */
export type ArtifactsConfig = ArtifactsFs | ArtifactsOci

/**
 * `[backup]`.
 */
export interface BackupConfig {
  /**
   * Files to back up before a production deployment (databases, configuration).
   */
  paths?: string[]
  /**
   * PostgreSQL databases backed up with `pg_dump`.
   */
  postgres?: PgBackupConfig | null
}

/**
 * `[build]`.
 */
export interface BuildConfig {
  /**
   * Artifact name -> path the build leaves it at (relative to the repository).
   */
  artifacts: { [key: string]: string }
  /**
   * The build command (argv).
   */
  command: string[]
  /**
   * How long the build may take (`30m`).
   */
  timeout?: string | null
}

/**
 * `[notes.confluence]`.
 */
export interface ConfluenceConfig {
  /**
   * The account's email.
   */
  email: string
  /**
   * The page new pages go under, by id.
   */
  parent_id?: string | null
  /**
   * The space key (`REL`).
   */
  space: string
  /**
   * The environment variable holding its API token.
   */
  token_env: string
  /**
   * The site's wiki URL (`https://acme.atlassian.net/wiki`).
   */
  url: string
}

/**
 * `[server.console]`: the web console served at `/console/` (issue #22).
 *
 * People sign in through the OpenID provider of `[server.oidc]` (authorization
 * code with PKCE, as a public client): the browser never holds a token, only
 * an HttpOnly session cookie, and every state-changing request carries the
 * session's CSRF token. Sessions live in the server's memory: run one console
 * replica (or sticky sessions); a restart signs everyone out.
 *
 * ```toml
 * [server.console]
 * client_id = "shipwarden-console"          # registered at [server.oidc] issuer
 * url = "https://releases.example.com"      # redirect_uri = {url}/console/callback
 * resource = "urn:shipwarden"               # RFC 8707, when the provider needs it
 * session_ttl = "8h"
 * ```
 */
export interface ConsoleConfig {
  /**
   * The OIDC client registered at `[server.oidc] issuer` for the console (a public
   * client, PKCE, redirect URI `{url}/console/callback`); no console sign-in without it.
   */
  client_id?: string | null
  /**
   * The RFC 8707 resource indicator sent on the authorization and token requests (`urn:shipwarden`).
   */
  resource?: string | null
  /**
   * The scopes asked for (default `["openid"]`).
   */
  scopes?: string[] | null
  /**
   * How long a console session lasts (`8h`, the default; at most a week, `168h`).
   */
  session_ttl?: string | null
  /**
   * The console's public base URL (`https://releases.example.com`), for the
   * redirect URI and the origin state-changing requests must come from;
   * default `http://<listen address>`.
   */
  url?: string | null
}

/**
 * `kind = "http"`: An endpoint answering JSON.
 */
export interface DependencyHttp {
  kind: "http"
  /**
   * Dependency name -> JSON Pointer of its version; without, the answer is an object of names to versions.
   */
  pointers?: { [key: string]: string }
  /**
   * The environment variable holding a bearer token.
   */
  token_env?: string | null
  /**
   * The URL (`{environment}` is replaced).
   */
  url: string
}

/**
 * `kind = "command"`: A command printing JSON or `name version` lines.
 */
export interface DependencyCommand {
  /**
   * The argv (`{environment}` is replaced).
   */
  command: string[]
  kind: "command"
}

/**
 * Where an environment's dependency versions are read (R-7f).
 */
export type DependencyConfig = DependencyHttp | DependencyCommand

/**
 * `[engine]`: how long to wait for other drivers.
 */
export interface EngineSettings {
  /**
   * How long a lease lasts without renewal (`30s`, at least 5s): after a driver dies, others wait this long.
   */
  lease_ttl?: string | null
  /**
   * How long to wait for a release or environment another driver holds (`10m`).
   */
  lease_wait?: string | null
}

/**
 * `[environments.NAME]`.
 */
export interface Environment {
  /**
   * Pre-deployment checks (R-8a).
   */
  checks?: ProbeConfig[]
  /**
   * Where the versions of the external dependencies this environment runs are read (R-7f).
   */
  dependencies?: DependencyConfig[]
  /**
   * The database migrations run before the targets deploy (R-7e, R-8b).
   */
  migrations?: MigrationsConfig | null
  /**
   * Probes sampled while a deployment runs and through the verification window (R-8e).
   */
  monitors?: ProbeConfig[]
  /**
   * The environment's configuration settings, recorded on each deployment (R-9c).
   */
  settings?: SettingsConfig | null
  /**
   * Smoke tests (R-8f).
   */
  smoke?: ProbeConfig[]
  /**
   * Deploy targets.
   */
  targets?: TargetConfig[]
}

/**
 * `[[escalation]]`: whom to call when a release is in trouble (R-2e).
 */
export interface Escalation {
  /**
   * Email address.
   */
  email: string
  /**
   * Full name.
   */
  name: string
  /**
   * Phone, for the 2 AM call.
   */
  phone?: string | null
  /**
   * Their role.
   */
  role: string
}

/**
 * `[evidence]`.
 */
export interface EvidenceConfig {
  /**
   * The public key (hex) bundles must be signed with, for `shipwarden evidence verify`.
   */
  public_key?: string | null
  /**
   * Where signed checkpoints are published besides the store (R-9d): `notes` (every checkpoint, as
   * `<release>.heads.json` in the notes folder and the `[notes.wiki]` repository) and `ticket` (the
   * close, as a comment on the release ticket).
   */
  publish_heads?: string[]
  /**
   * The environment variable holding the Ed25519 signing key (a 32-byte seed as 64 hex digits).
   */
  signing_key_env?: string | null
  /**
   * More public keys (hex) whose checkpoints `audit --verify` accepts, e.g. a retired key (R-9d).
   */
  trusted_keys?: string[]
}

/**
 * `[notes.github]`.
 */
export interface GithubConfig {
  /**
   * The API (default `https://api.github.com`).
   */
  api?: string | null
  /**
   * The repository's owner.
   */
  owner: string
  /**
   * The repository.
   */
  repo: string
  /**
   * The environment variable holding the token.
   */
  token_env: string
}

/**
 * `[identity]`.
 */
export interface IdentityConfig {
  /**
   * An `allowed_signers` file in git's format, relative to the config file.
   */
  allowed_signers?: string | null
  /** Further keys pass to the policy. */
  [key: string]: unknown
}

/**
 * `kind = "postgres"`: SQL files run on PostgreSQL, each in a transaction, their digests recorded.
 */
export interface MigrationsPostgres {
  /**
   * The folder of migration files, relative to the config file.
   */
  dir: string
  kind: "postgres"
  /**
   * The environment variable holding the password.
   */
  password_env?: string | null
  /**
   * The table recording applied migrations (`shipwarden_migrations`).
   */
  table?: string | null
  /**
   * The database URL, without a password.
   */
  url?: string | null
}

/**
 * `kind = "command"`: Any migration tool behind an apply and a revert command.
 */
export interface MigrationsCommand {
  /**
   * The apply command (argv; `{environment}`, `{dir}`, `{key}`, `{digest}`).
   */
  apply?: string[]
  /**
   * The folder of migration files, relative to the config file.
   */
  dir: string
  kind: "command"
  /**
   * The tool's name (`flyway`).
   */
  name?: string | null
  /**
   * The revert command (argv).
   */
  revert?: string[]
  /**
   * How long a command may run (`30m`).
   */
  timeout?: string | null
}

/**
 * An environment's migrations.
 */
export type MigrationsConfig = MigrationsPostgres | MigrationsCommand

/**
 * `[notes]`.
 */
export interface NotesConfig {
  /**
   * A Confluence Cloud space.
   */
  confluence?: ConfluenceConfig | null
  /**
   * GitHub releases.
   */
  github?: GithubConfig | null
  /**
   * A wiki git repository.
   */
  wiki?: WikiConfig | null
}

/**
 * `[notify]`.
 */
export interface NotifyConfig {
  /**
   * `[[notify.slack]]`: notices to Slack channels.
   */
  slack?: SlackConfig[]
  /**
   * `[[notify.smtp]]`: notices by mail.
   */
  smtp?: SmtpConfig[]
  /**
   * `[[notify.webhooks]]`: notices POSTed as signed JSON.
   */
  webhooks?: WebhookConfig[]
}

/**
 * `[server.oidc]`: an OpenID provider whose access or ID tokens (JWT) the server accepts.
 */
export interface OidcConfig {
  /**
   * The audience a token must name (`aud`).
   */
  audience: string
  /**
   * Roles each group grants, besides the user's own: `"release-managers" = ["release_manager"]`.
   */
  groups?: { [key: string]: string[] }
  /**
   * The claim with the user's groups (default `groups`).
   */
  groups_claim?: string | null
  /**
   * The issuer (`https://login.example.com`): its `/.well-known/openid-configuration` names the JWKS.
   */
  issuer: string
  /**
   * How much clock skew `exp` and `nbf` tolerate (`60s`, at most `5m`).
   */
  leeway?: string | null
  /**
   * The claim that names the shipwarden user (a key of `[users]`; default `sub`).
   */
  user_claim?: string | null
}

/**
 * `[backup.postgres]`.
 */
export interface PgBackupConfig {
  /**
   * The folder of `pg_dump` and `pg_restore` (default: the `PATH`).
   */
  bin_dir?: string | null
  /**
   * Environment name -> database URL without a password (`postgres://app@db:5432/shop`).
   */
  databases: { [key: string]: string }
  /**
   * Where dumps are kept (default `STATE_DIR/backups`).
   */
  dir?: string | null
  /**
   * The environment variable holding the password.
   */
  password_env?: string | null
}

/**
 * `kind = "host"`: CPU, memory, free disk of this host.
 */
export interface ProbeHost {
  /**
   * Measure free space on the disk holding this path (default: the file's folder).
   */
  disk?: string | null
  kind: "host"
}

/**
 * `kind = "http"`: HTTP status and p95 latency.
 */
export interface ProbeHttp {
  /**
   * The gate the p95 is for (`response_time`, `p95_latency`).
   */
  gate?: string | null
  kind: "http"
  /**
   * Requests to send (10).
   */
  requests?: number | null
  /**
   * Expected status (200).
   */
  status?: number | null
  /**
   * The URL.
   */
  url: string
}

/**
 * `kind = "tls"`: TLS handshake and certificate expiry.
 */
export interface ProbeTls {
  /**
   * Trust only this PEM file.
   */
  ca_file?: string | null
  /**
   * Host to connect to.
   */
  host: string
  kind: "tls"
  /**
   * Port.
   */
  port: number
  /**
   * Name the certificate must be valid for (default: host).
   */
  server_name?: string | null
}

/**
 * `kind = "tcp"`: TCP reachability.
 */
export interface ProbeTcp {
  /**
   * `host:port`.
   */
  address: string
  kind: "tcp"
}

/**
 * `kind = "prometheus"`: PromQL queries against Prometheus, each evidence for a gate.
 */
export interface ProbePrometheus {
  kind: "prometheus"
  /**
   * The queries.
   */
  queries: PromQueryConfig[]
  /**
   * How long a query may take (`10s`).
   */
  timeout?: string | null
  /**
   * The environment variable holding a bearer token, if the server asks for one.
   */
  token_env?: string | null
  /**
   * The server (`http://prometheus:9090`).
   */
  url: string
}

/**
 * `kind = "steps"`: Key-feature checks as HTTP steps: login, then API calls with its token (R-8f).
 */
export interface ProbeSteps {
  /**
   * How long all steps may take (default: the policy's smoke-test deadline).
   */
  deadline?: string | null
  kind: "steps"
  /**
   * The smoke test's name.
   */
  name: string
  /**
   * `${name}` -> the environment variable holding a secret the steps use (a password).
   */
  secrets?: { [key: string]: string }
  /**
   * The steps, in order.
   */
  steps: SmokeStepConfig[]
}

/**
 * `kind = "database"`: A database test query.
 */
export interface ProbeDatabase {
  kind: "database"
  /**
   * The query (default `SELECT 1`).
   */
  query?: string | null
  /**
   * `sqlite:PATH` (no secrets in it).
   */
  url?: string | null
  /**
   * The environment variable holding the URL (PostgreSQL, with its password).
   */
  url_env?: string | null
}

/**
 * A probe: what `kind` it is and how it is set up.
 */
export type ProbeConfig = ProbeHost | ProbeHttp | ProbeTls | ProbeTcp | ProbePrometheus | ProbeSteps | ProbeDatabase

/**
 * `[project]`.
 */
export interface Project {
  /**
   * The project's name (`shop`).
   */
  name: string
  /**
   * The git repository, relative to this file.
   */
  repository?: string
  /**
   * Where the store, artifacts, backups, notes and notices live, relative to this file.
   */
  state_dir?: string
  /**
   * Prefix of shipwarden's own ticket keys (`SHOP`).
   */
  ticket_prefix?: string | null
  /**
   * The calendar's time zone (sets `policy.calendar.time_zone`).
   */
  time_zone?: string | null
}

/**
 * `[server.projects.NAME]`: who may see a project.
 */
export interface ProjectAccess {
  /**
   * Users (`alice`) and groups (`group:qa`) who may see the project besides its `[users]`.
   */
  readers?: string[]
}

/**
 * One PromQL query of a `prometheus` probe.
 */
export interface PromQueryConfig {
  /**
   * The gate it is evidence for (`response_time`, `cpu`, `error_rate`).
   */
  gate: string
  /**
   * The PromQL; `{environment}` is replaced by the environment's name.
   */
  query: string
  /**
   * Each value is multiplied by this (`1000`: seconds to ms; default 1).
   */
  scale?: number | null
}

/**
 * `[server]`.
 */
export interface ServerConfig {
  /**
   * Whether this replica drives releases and performs due duties in the background (default true).
   */
  background?: boolean | null
  /**
   * The web console at `/console/` and its sign-in (issue #22).
   */
  console?: ConsoleConfig | null
  /**
   * Origins allowed to call the API from a browser (`https://console.example.com`); none by default.
   */
  cors_origins?: string[]
  /**
   * Where to listen (`127.0.0.1:8080`); `serve --listen` wins.
   */
  listen?: string | null
  /**
   * The largest request body accepted, in bytes (default 1 MiB; evidence files up to `max_upload_bytes`).
   */
  max_body_bytes?: number | null
  /**
   * The largest evidence file accepted, in bytes (default 64 MiB).
   */
  max_upload_bytes?: number | null
  /**
   * OpenID Connect bearer tokens (JWT).
   */
  oidc?: OidcConfig | null
  /**
   * Project visibility: `[server.projects.NAME] readers = ["alice", "group:qa"]`.
   */
  projects?: { [key: string]: ProjectAccess }
  /**
   * Requests per second each identity may make (a token bucket with this burst; default 50).
   */
  rate_limit?: number | null
  /**
   * How long one request may take before it is answered 503 (`30s`); streams are exempt.
   */
  request_timeout?: string | null
  /**
   * Approvals and rejections from Slack's Approve and Reject buttons (issue #23).
   */
  slack?: SlackAppConfig | null
  /**
   * TLS from certificate files (rustls); plain HTTP without.
   */
  tls?: TlsFiles | null
}

/**
 * `[environments.NAME.settings]`: an env file whose keys are recorded (values only as hashes).
 */
export interface SettingsConfig {
  /**
   * The env file, relative to the config file (`deploy/prod.env`).
   */
  file: string
  /**
   * Keys that are secrets besides the usual names (`STRIPE_*`); their values are never recorded.
   */
  secret_keys?: string[]
}

/**
 * `[server.slack]`: the Slack app whose Approve and Reject buttons record
 * approvals and rejections through `POST /slack/interactivity` (issue #23).
 *
 * Slack authenticates each request by signing it with the app's signing
 * secret; the server reads the secret from the environment variable named
 * here when it starts, and refuses to start without it.
 *
 * ```toml
 * [server.slack]
 * signing_secret_env = "SLACK_SIGNING_SECRET"   # Basic Information → Signing Secret
 * token_env = "SLACK_BOT_TOKEN"                 # xoxb-…, for the Reject dialog (views.open)
 * team = "T0123ABC"                             # the workspace whose requests count
 * ```
 */
export interface SlackAppConfig {
  /**
   * The Web API's base URL (default `https://slack.com/api`).
   */
  api?: string | null
  /**
   * The hosts a `response_url` may name (default `["hooks.slack.com"]`): the
   * outcome of a click is posted there and nowhere else.
   */
  response_hosts?: string[] | null
  /**
   * The environment variable holding the app's signing secret (never the secret itself).
   */
  signing_secret_env: string
  /**
   * The Slack workspace (`team.id`, `T0123ABC`) whose requests count; a
   * request from any other workspace is refused.
   */
  team: string
  /**
   * The environment variable holding the bot token (`xoxb-…`), with which the
   * Reject button opens the dialog asking for the reason (`views.open`).
   */
  token_env?: string | null
}

/**
 * `[[notify.slack]]`: an incoming webhook (`webhook_env`) or a channel with a bot token (`channel`, `token_env`).
 */
export interface SlackConfig {
  /**
   * The Web API (default `https://slack.com/api`).
   */
  api?: string | null
  /**
   * Where approval requests, reminders and expiries go: `channel` (the
   * default) or `direct`, a direct message to each approver with a
   * `[users.NAME] slack` id (needs `token_env`, the bot's `chat:write`).
   */
  approvals?: string | null
  /**
   * Send only notices for these audiences (default: all).
   */
  audiences?: string[] | null
  /**
   * The channel for `chat.postMessage` (`C0123` or `#releases`).
   */
  channel?: string | null
  /**
   * The console's base URL (`https://releases.example.com`): approval
   * requests link to the release's page there (issue #23).
   */
  console_url?: string | null
  /**
   * How long a POST may take (`10s`).
   */
  timeout?: string | null
  /**
   * The environment variable holding the bot token (`xoxb-…`).
   */
  token_env?: string | null
  /**
   * The environment variable holding the incoming webhook's URL (its path is a secret).
   */
  webhook_env?: string | null
}

/**
 * One request of a `steps` smoke test (R-8f).
 */
export interface SmokeStepConfig {
  /**
   * A JSON body (a table, or a string); strings in it may use `${name}`.
   */
  body?: unknown
  /**
   * Name -> path of a value to keep for later steps (a login token).
   */
  capture?: { [key: string]: string }
  /**
   * Paths the JSON answer must hold a value at.
   */
  exists?: string[]
  /**
   * Path -> the value the JSON answer must hold there.
   */
  expect?: { [key: string]: unknown }
  /**
   * Headers; values may use `${name}`.
   */
  headers?: { [key: string]: string }
  /**
   * The longest the answer may take (`500ms`, `2s`).
   */
  max_latency?: string | null
  /**
   * The method (`GET`).
   */
  method?: string | null
  /**
   * Its name.
   */
  name: string
  /**
   * The expected status (200).
   */
  status?: number | null
  /**
   * The URL; may use `${name}`.
   */
  url: string
}

/**
 * `[[notify.smtp]]`.
 */
export interface SmtpConfig {
  /**
   * A PEM file of extra trusted CA certificates (a private relay).
   */
  ca_file?: string | null
  /**
   * The sender (`Releases <releases@example.com>`).
   */
  from: string
  /**
   * The server's host name.
   */
  host: string
  /**
   * The environment variable holding the password.
   */
  password_env?: string | null
  /**
   * Its port (587 for `starttls`, 465 for `tls`).
   */
  port?: number | null
  /**
   * `starttls` (default), `tls`, or `none` (a relay on loopback only).
   */
  security?: string | null
  /**
   * How long an exchange may take (`30s`).
   */
  timeout?: string | null
  /**
   * Recipients by audience: `teams`, `stakeholders`, `clients` (sent as Bcc), or a group's name.
   */
  to?: { [key: string]: string[] }
  /**
   * The user to sign in as, if the server asks.
   */
  user?: string | null
}

/**
 * `kind = "sqlite"`: One SQLite file.
 */
export interface StoreSqlite {
  kind?: "sqlite"
  /**
   * The file (default `STATE_DIR/releases.db`).
   */
  path?: string | null
}

/**
 * `kind = "postgres"`: A PostgreSQL database.
 */
export interface StorePostgres {
  kind: "postgres"
  /**
   * The environment variable holding the connection URL.
   */
  url_env?: string | null
}

/**
 * `[store]`.
 */
export type StoreConfig = StoreSqlite | StorePostgres

/**
 * `kind = "command"`: Commands run on this machine.
 */
export interface TargetCommand {
  /**
   * Deploy command (argv; placeholders `{release}`, `{version}`, `{environment}`, `{key}`, `{artifacts}`).
   */
  deploy: string[]
  /**
   * Extra environment variables.
   */
  env?: { [key: string]: string }
  /**
   * The deploy command is safe to run twice for one key: after a crash it is
   * run again rather than left in doubt for a person (R-9d). Default false.
   */
  idempotent?: boolean
  kind?: "command"
  /**
   * Its name (`web-1`).
   */
  name: string
  /**
   * Rollback command (argv).
   */
  rollback: string[]
  /**
   * Status command (argv): exit 0 when the key was done.
   */
  status?: string[] | null
  /**
   * How long one command may run (`10m`).
   */
  timeout?: string | null
}

/**
 * `kind = "ssh"`: Commands run on a host over SSH, after the artifacts are uploaded.
 */
export interface TargetSsh {
  /**
   * Deploy command (argv), run in `dir`.
   */
  deploy: string[]
  /**
   * The folder on the host releases are uploaded to and commands run in.
   */
  dir?: string | null
  /**
   * Extra environment variables.
   */
  env?: { [key: string]: string }
  /**
   * The host.
   */
  host?: string | null
  /**
   * The private key file (`~/` is the home folder).
   */
  identity?: string | null
  kind: "ssh"
  /**
   * The `known_hosts` file the host key is checked against.
   */
  known_hosts?: string | null
  /**
   * Its name (`web-1`).
   */
  name: string
  /**
   * The port (22).
   */
  port?: number | null
  /**
   * Rollback command (argv).
   */
  rollback: string[]
  /**
   * How long one command may run (`10m`).
   */
  timeout?: string | null
  /**
   * The user.
   */
  user?: string | null
}

/**
 * A deploy target: commands run here (`kind = "command"`, the default) or on a host over SSH (`kind = "ssh"`).
 */
export type TargetConfig = TargetCommand | TargetSsh

/**
 * `kind = "local"`: Tickets in the SQLite store (keys `PREFIX-1`).
 */
export interface TicketingLocal {
  kind?: "local"
}

/**
 * `kind = "jira"`: Jira Cloud (REST v3).
 */
export interface TicketingJira {
  /**
   * The account's e-mail.
   */
  email?: string | null
  kind: "jira"
  /**
   * The project for release tickets and versions (`SHOP`).
   */
  project?: string | null
  /**
   * The issue type of release tickets (default `Task`).
   */
  release_issue_type?: string | null
  /**
   * The environment variable holding the API token.
   */
  token_env?: string | null
  /**
   * The site (`https://acme.atlassian.net`).
   */
  url?: string | null
}

/**
 * `kind = "github"`: GitHub Issues.
 */
export interface TicketingGithub {
  kind: "github"
  /**
   * The repository's owner.
   */
  owner?: string | null
  /**
   * The repository.
   */
  repo?: string | null
  /**
   * The environment variable holding the API token.
   */
  token_env?: string | null
  /**
   * The API (default `https://api.github.com`).
   */
  url?: string | null
}

/**
 * `[ticketing]`.
 */
export type TicketingConfig = TicketingLocal | TicketingJira | TicketingGithub

/**
 * `[server.tls]`: PEM files.
 */
export interface TlsFiles {
  /**
   * The certificate chain (PEM).
   */
  cert: string
  /**
   * The private key (PEM).
   */
  key: string
}

/**
 * `[users.NAME]`.
 */
export interface User {
  /**
   * Their email address.
   */
  email?: string | null
  /**
   * The roles this person holds.
   */
  roles: string[]
  /**
   * Their Slack member id (`U0123ABC`, or `W…` on Enterprise Grid): a click
   * on an Approve or Reject button by this Slack user acts as this user (issue #23).
   */
  slack?: string | null
  /**
   * The SSH public keys they sign approvals with (`ssh-ed25519 AAAA… comment`).
   */
  ssh_keys?: string[]
}

/**
 * `[vcs]`.
 */
export interface VcsConfig {
  /**
   * The remote tags are pushed to; none keeps tags local.
   */
  remote?: string | null
}

/**
 * `[[notify.webhooks]]`.
 */
export interface WebhookConfig {
  /**
   * The environment variable holding the HMAC secret, if the receiver checks signatures.
   */
  secret_env?: string | null
  /**
   * How long one POST may take (`10s`).
   */
  timeout?: string | null
  /**
   * Where to POST (no credentials in it).
   */
  url: string
}

/**
 * `[notes.wiki]`.
 */
export interface WikiConfig {
  /**
   * Its branch (default `master`).
   */
  branch?: string | null
  /**
   * The page name, with `{version}` and `{release}`.
   */
  page?: string | null
  /**
   * The wiki's git URL (`git@github.com:acme/shop.wiki.git`) or path.
   */
  remote: string
}
