"""The shape of `shipwarden.toml`, for a configuration built in code.

`ReleaseManager.open(config)` accepts a dict of this shape in place of the
file (relative paths are relative to `base_dir`; a `None` value means the
key is not given). `default_config()` returns the commented file
`shipwarden init` writes.

Generated from the Rust types by `adapters/tests/config_types.rs`: do not edit.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, Union

__all__ = ["ApprovalLinksConfig", "ArtifactsConfig", "ArtifactsFs", "ArtifactsOci", "BackupConfig", "BuildConfig", "Config", "ConfluenceConfig", "ConsoleConfig", "DependencyCommand", "DependencyConfig", "DependencyHttp", "EngineSettings", "Environment", "Escalation", "EvidenceConfig", "GithubConfig", "IdentityConfig", "MigrationsCommand", "MigrationsConfig", "MigrationsPostgres", "NotesConfig", "NotifyConfig", "OidcConfig", "PgBackupConfig", "ProbeConfig", "ProbeDatabase", "ProbeHost", "ProbeHttp", "ProbePrometheus", "ProbeSteps", "ProbeTcp", "ProbeTls", "Project", "ProjectAccess", "PromQueryConfig", "ServerConfig", "SettingsConfig", "SlackAppConfig", "SlackConfig", "SmokeStepConfig", "SmtpConfig", "StoreConfig", "StorePostgres", "StoreSqlite", "TargetCommand", "TargetConfig", "TargetSsh", "TicketingConfig", "TicketingGithub", "TicketingJira", "TicketingLocal", "TlsFiles", "User", "VcsConfig", "WebhookConfig", "WikiConfig"]


class _ConfigRequired(TypedDict):
    """The keys Config requires."""

    project: Project
    """`[project]`."""


class Config(_ConfigRequired, total=False):
    """The whole file."""

    approval_links: ApprovalLinksConfig | None
    """`[approval_links]`: one-time approve / reject links in mailed
    approval requests (issue #23), read by the SMTP notifier and `serve`."""

    artifacts: ArtifactsConfig
    """`[artifacts]`: where artifacts are kept (default: `STATE_DIR/artifacts`)."""

    backup: BackupConfig | None
    """`[backup]`."""

    build: BuildConfig | None
    """`[build]`."""

    engine: EngineSettings
    """`[engine]`."""

    environments: dict[str, Environment]
    """`[environments.NAME]`."""

    escalation: list[Escalation]
    """`[[escalation]]` (R-2e)."""

    evidence: EvidenceConfig
    """`[evidence]`: how evidence bundles are signed and checked (R-9d)."""

    identity: IdentityConfig
    """`[identity]`: which proofs of who acts each action needs, and where
    users' SSH keys are listed (issue #19)."""

    notes: NotesConfig
    """`[notes]`: where release notes are published besides `STATE_DIR/notes`."""

    notify: NotifyConfig
    """`[notify]`: who is told besides `notices.jsonl`."""

    policy: dict[str, Any]
    """`[policy]`: overrides of the default policy."""

    server: ServerConfig
    """`[server]`: how `shipwarden serve` listens and whom it trusts (issue #21)."""

    store: StoreConfig
    """`[store]`: `kind = "sqlite"` (default) or `"postgres"`."""

    ticketing: TicketingConfig
    """`[ticketing]`: shipwarden's own tickets (default), Jira Cloud or GitHub Issues."""

    users: dict[str, User]
    """`[users.NAME]`."""

    vcs: VcsConfig
    """`[vcs]`."""


class ApprovalLinksConfig(TypedDict):
    """`[approval_links]`: mailed approval requests carry each approver's own
    signed, expiring, single-use Approve and Reject links to the console
    (issue #23); `serve` checks and records them."""

    console_url: str
    """The console's base URL (`https://releases.example.com`): links go to
    `{console_url}/console/confirm?t=…`."""

    secret_env: str
    """The environment variable holding the key links are signed with
    (HMAC-SHA256, at least 32 bytes); the same for the mailer and `serve`."""


class ArtifactsFs(TypedDict, total=False):
    """`kind = "fs"`: A content-addressed folder in the state folder."""

    kind: Literal["fs"]


class _ArtifactsOciRequired(TypedDict):
    """The keys ArtifactsOci requires."""

    kind: Literal["oci"]


class ArtifactsOci(_ArtifactsOciRequired, total=False):
    """`kind = "oci"`: An OCI registry (Harbor, GHCR, ECR, Artifactory)."""

    insecure_http: bool
    """Plain HTTP (a registry on loopback or a private network)."""

    media_type: str | None
    """The layer's media type."""

    namespace: str | None
    """The namespace repositories live under (`acme/releases`; default: the project's name)."""

    password_env: str | None
    """The environment variable holding the password or token."""

    registry: str | None
    """The registry (`ghcr.io`, `harbor.example.com`, `127.0.0.1:5000`)."""

    user: str | None
    """The user to sign in as."""


ArtifactsConfig = Union["ArtifactsFs", "ArtifactsOci"]
"""`[artifacts]`."""


class BackupConfig(TypedDict, total=False):
    """`[backup]`."""

    paths: list[str]
    """Files to back up before a production deployment (databases, configuration)."""

    postgres: PgBackupConfig | None
    """PostgreSQL databases backed up with `pg_dump`."""


class _BuildConfigRequired(TypedDict):
    """The keys BuildConfig requires."""

    artifacts: dict[str, str]
    """Artifact name -> path the build leaves it at (relative to the repository)."""

    command: list[str]
    """The build command (argv)."""


class BuildConfig(_BuildConfigRequired, total=False):
    """`[build]`."""

    timeout: str | None
    """How long the build may take (`30m`)."""


class _ConfluenceConfigRequired(TypedDict):
    """The keys ConfluenceConfig requires."""

    email: str
    """The account's email."""

    space: str
    """The space key (`REL`)."""

    token_env: str
    """The environment variable holding its API token."""

    url: str
    """The site's wiki URL (`https://acme.atlassian.net/wiki`)."""


class ConfluenceConfig(_ConfluenceConfigRequired, total=False):
    """`[notes.confluence]`."""

    parent_id: str | None
    """The page new pages go under, by id."""


class ConsoleConfig(TypedDict, total=False):
    """`[server.console]`: the web console served at `/console/` (issue #22).

    People sign in through the OpenID provider of `[server.oidc]` (authorization
    code with PKCE, as a public client): the browser never holds a token, only
    an HttpOnly session cookie, and every state-changing request carries the
    session's CSRF token. Sessions live in the server's memory: run one console
    replica (or sticky sessions); a restart signs everyone out.

    ```toml
    [server.console]
    client_id = "shipwarden-console"          # registered at [server.oidc] issuer
    url = "https://releases.example.com"      # redirect_uri = {url}/console/callback
    resource = "urn:shipwarden"               # RFC 8707, when the provider needs it
    session_ttl = "8h"
    ```"""

    client_id: str | None
    """The OIDC client registered at `[server.oidc] issuer` for the console (a public
    client, PKCE, redirect URI `{url}/console/callback`); no console sign-in without it."""

    resource: str | None
    """The RFC 8707 resource indicator sent on the authorization and token requests (`urn:shipwarden`)."""

    scopes: list[str] | None
    """The scopes asked for (default `["openid"]`)."""

    session_ttl: str | None
    """How long a console session lasts (`8h`, the default; at most a week, `168h`)."""

    url: str | None
    """The console's public base URL (`https://releases.example.com`), for the
    redirect URI and the origin state-changing requests must come from;
    default `http://<listen address>`."""


class _DependencyHttpRequired(TypedDict):
    """The keys DependencyHttp requires."""

    kind: Literal["http"]

    url: str
    """The URL (`{environment}` is replaced)."""


class DependencyHttp(_DependencyHttpRequired, total=False):
    """`kind = "http"`: An endpoint answering JSON."""

    pointers: dict[str, str]
    """Dependency name -> JSON Pointer of its version; without, the answer is an object of names to versions."""

    token_env: str | None
    """The environment variable holding a bearer token."""


class DependencyCommand(TypedDict):
    """`kind = "command"`: A command printing JSON or `name version` lines."""

    command: list[str]
    """The argv (`{environment}` is replaced)."""

    kind: Literal["command"]


DependencyConfig = Union["DependencyHttp", "DependencyCommand"]
"""Where an environment's dependency versions are read (R-7f)."""


class EngineSettings(TypedDict, total=False):
    """`[engine]`: how long to wait for other drivers."""

    lease_ttl: str | None
    """How long a lease lasts without renewal (`30s`, at least 5s): after a driver dies, others wait this long."""

    lease_wait: str | None
    """How long to wait for a release or environment another driver holds (`10m`)."""


class Environment(TypedDict, total=False):
    """`[environments.NAME]`."""

    checks: list[ProbeConfig]
    """Pre-deployment checks (R-8a)."""

    dependencies: list[DependencyConfig]
    """Where the versions of the external dependencies this environment runs are read (R-7f)."""

    migrations: MigrationsConfig | None
    """The database migrations run before the targets deploy (R-7e, R-8b)."""

    monitors: list[ProbeConfig]
    """Probes sampled while a deployment runs and through the verification window (R-8e)."""

    settings: SettingsConfig | None
    """The environment's configuration settings, recorded on each deployment (R-9c)."""

    smoke: list[ProbeConfig]
    """Smoke tests (R-8f)."""

    targets: list[TargetConfig]
    """Deploy targets."""


class _EscalationRequired(TypedDict):
    """The keys Escalation requires."""

    email: str
    """Email address."""

    name: str
    """Full name."""

    role: str
    """Their role."""


class Escalation(_EscalationRequired, total=False):
    """`[[escalation]]`: whom to call when a release is in trouble (R-2e)."""

    phone: str | None
    """Phone, for the 2 AM call."""


class EvidenceConfig(TypedDict, total=False):
    """`[evidence]`."""

    public_key: str | None
    """The public key (hex) bundles must be signed with, for `shipwarden evidence verify`."""

    publish_heads: list[str]
    """Where signed checkpoints are published besides the store (R-9d): `notes` (every checkpoint, as
    `<release>.heads.json` in the notes folder and the `[notes.wiki]` repository) and `ticket` (the
    close, as a comment on the release ticket)."""

    signing_key_env: str | None
    """The environment variable holding the Ed25519 signing key (a 32-byte seed as 64 hex digits)."""

    trusted_keys: list[str]
    """More public keys (hex) whose checkpoints `audit --verify` accepts, e.g. a retired key (R-9d)."""


class _GithubConfigRequired(TypedDict):
    """The keys GithubConfig requires."""

    owner: str
    """The repository's owner."""

    repo: str
    """The repository."""

    token_env: str
    """The environment variable holding the token."""


class GithubConfig(_GithubConfigRequired, total=False):
    """`[notes.github]`."""

    api: str | None
    """The API (default `https://api.github.com`)."""


IdentityConfig = dict[str, Any]
"""`[identity]`.

Known keys: allowed_signers."""


class _MigrationsPostgresRequired(TypedDict):
    """The keys MigrationsPostgres requires."""

    dir: str
    """The folder of migration files, relative to the config file."""

    kind: Literal["postgres"]


class MigrationsPostgres(_MigrationsPostgresRequired, total=False):
    """`kind = "postgres"`: SQL files run on PostgreSQL, each in a transaction, their digests recorded."""

    password_env: str | None
    """The environment variable holding the password."""

    table: str | None
    """The table recording applied migrations (`shipwarden_migrations`)."""

    url: str | None
    """The database URL, without a password."""


class _MigrationsCommandRequired(TypedDict):
    """The keys MigrationsCommand requires."""

    dir: str
    """The folder of migration files, relative to the config file."""

    kind: Literal["command"]


class MigrationsCommand(_MigrationsCommandRequired, total=False):
    """`kind = "command"`: Any migration tool behind an apply and a revert command."""

    apply: list[str]
    """The apply command (argv; `{environment}`, `{dir}`, `{key}`, `{digest}`)."""

    name: str | None
    """The tool's name (`flyway`)."""

    revert: list[str]
    """The revert command (argv)."""

    timeout: str | None
    """How long a command may run (`30m`)."""


MigrationsConfig = Union["MigrationsPostgres", "MigrationsCommand"]
"""An environment's migrations."""


class NotesConfig(TypedDict, total=False):
    """`[notes]`."""

    confluence: ConfluenceConfig | None
    """A Confluence Cloud space."""

    github: GithubConfig | None
    """GitHub releases."""

    wiki: WikiConfig | None
    """A wiki git repository."""


class NotifyConfig(TypedDict, total=False):
    """`[notify]`."""

    slack: list[SlackConfig]
    """`[[notify.slack]]`: notices to Slack channels."""

    smtp: list[SmtpConfig]
    """`[[notify.smtp]]`: notices by mail."""

    webhooks: list[WebhookConfig]
    """`[[notify.webhooks]]`: notices POSTed as signed JSON."""


class _OidcConfigRequired(TypedDict):
    """The keys OidcConfig requires."""

    audience: str
    """The audience a token must name (`aud`)."""

    issuer: str
    """The issuer (`https://login.example.com`): its `/.well-known/openid-configuration` names the JWKS."""


class OidcConfig(_OidcConfigRequired, total=False):
    """`[server.oidc]`: an OpenID provider whose access or ID tokens (JWT) the server accepts."""

    groups: dict[str, list[str]]
    """Roles each group grants, besides the user's own: `"release-managers" = ["release_manager"]`."""

    groups_claim: str | None
    """The claim with the user's groups (default `groups`)."""

    leeway: str | None
    """How much clock skew `exp` and `nbf` tolerate (`60s`, at most `5m`)."""

    user_claim: str | None
    """The claim that names the shipwarden user (a key of `[users]`; default `sub`)."""


class _PgBackupConfigRequired(TypedDict):
    """The keys PgBackupConfig requires."""

    databases: dict[str, str]
    """Environment name -> database URL without a password (`postgres://app@db:5432/shop`)."""


class PgBackupConfig(_PgBackupConfigRequired, total=False):
    """`[backup.postgres]`."""

    bin_dir: str | None
    """The folder of `pg_dump` and `pg_restore` (default: the `PATH`)."""

    dir: str | None
    """Where dumps are kept (default `STATE_DIR/backups`)."""

    password_env: str | None
    """The environment variable holding the password."""


class _ProbeHostRequired(TypedDict):
    """The keys ProbeHost requires."""

    kind: Literal["host"]


class ProbeHost(_ProbeHostRequired, total=False):
    """`kind = "host"`: CPU, memory, free disk of this host."""

    disk: str | None
    """Measure free space on the disk holding this path (default: the file's folder)."""


class _ProbeHttpRequired(TypedDict):
    """The keys ProbeHttp requires."""

    kind: Literal["http"]

    url: str
    """The URL."""


class ProbeHttp(_ProbeHttpRequired, total=False):
    """`kind = "http"`: HTTP status and p95 latency."""

    gate: str | None
    """The gate the p95 is for (`response_time`, `p95_latency`)."""

    requests: int | None
    """Requests to send (10)."""

    status: int | None
    """Expected status (200)."""


class _ProbeTlsRequired(TypedDict):
    """The keys ProbeTls requires."""

    host: str
    """Host to connect to."""

    kind: Literal["tls"]

    port: int
    """Port."""


class ProbeTls(_ProbeTlsRequired, total=False):
    """`kind = "tls"`: TLS handshake and certificate expiry."""

    ca_file: str | None
    """Trust only this PEM file."""

    server_name: str | None
    """Name the certificate must be valid for (default: host)."""


class ProbeTcp(TypedDict):
    """`kind = "tcp"`: TCP reachability."""

    address: str
    """`host:port`."""

    kind: Literal["tcp"]


class _ProbePrometheusRequired(TypedDict):
    """The keys ProbePrometheus requires."""

    kind: Literal["prometheus"]

    queries: list[PromQueryConfig]
    """The queries."""

    url: str
    """The server (`http://prometheus:9090`)."""


class ProbePrometheus(_ProbePrometheusRequired, total=False):
    """`kind = "prometheus"`: PromQL queries against Prometheus, each evidence for a gate."""

    timeout: str | None
    """How long a query may take (`10s`)."""

    token_env: str | None
    """The environment variable holding a bearer token, if the server asks for one."""


class _ProbeStepsRequired(TypedDict):
    """The keys ProbeSteps requires."""

    kind: Literal["steps"]

    name: str
    """The smoke test's name."""

    steps: list[SmokeStepConfig]
    """The steps, in order."""


class ProbeSteps(_ProbeStepsRequired, total=False):
    """`kind = "steps"`: Key-feature checks as HTTP steps: login, then API calls with its token (R-8f)."""

    deadline: str | None
    """How long all steps may take (default: the policy's smoke-test deadline)."""

    secrets: dict[str, str]
    """`${name}` -> the environment variable holding a secret the steps use (a password)."""


class _ProbeDatabaseRequired(TypedDict):
    """The keys ProbeDatabase requires."""

    kind: Literal["database"]


class ProbeDatabase(_ProbeDatabaseRequired, total=False):
    """`kind = "database"`: A database test query."""

    query: str | None
    """The query (default `SELECT 1`)."""

    url: str | None
    """`sqlite:PATH` (no secrets in it)."""

    url_env: str | None
    """The environment variable holding the URL (PostgreSQL, with its password)."""


ProbeConfig = Union["ProbeHost", "ProbeHttp", "ProbeTls", "ProbeTcp", "ProbePrometheus", "ProbeSteps", "ProbeDatabase"]
"""A probe: what `kind` it is and how it is set up."""


class _ProjectRequired(TypedDict):
    """The keys Project requires."""

    name: str
    """The project's name (`shop`)."""


class Project(_ProjectRequired, total=False):
    """`[project]`."""

    repository: str
    """The git repository, relative to this file."""

    state_dir: str
    """Where the store, artifacts, backups, notes and notices live, relative to this file."""

    ticket_prefix: str | None
    """Prefix of shipwarden's own ticket keys (`SHOP`)."""

    time_zone: str | None
    """The calendar's time zone (sets `policy.calendar.time_zone`)."""


class ProjectAccess(TypedDict, total=False):
    """`[server.projects.NAME]`: who may see a project."""

    readers: list[str]
    """Users (`alice`) and groups (`group:qa`) who may see the project besides its `[users]`."""


class _PromQueryConfigRequired(TypedDict):
    """The keys PromQueryConfig requires."""

    gate: str
    """The gate it is evidence for (`response_time`, `cpu`, `error_rate`)."""

    query: str
    """The PromQL; `{environment}` is replaced by the environment's name."""


class PromQueryConfig(_PromQueryConfigRequired, total=False):
    """One PromQL query of a `prometheus` probe."""

    scale: float | None
    """Each value is multiplied by this (`1000`: seconds to ms; default 1)."""


class ServerConfig(TypedDict, total=False):
    """`[server]`."""

    background: bool | None
    """Whether this replica drives releases and performs due duties in the background (default true)."""

    console: ConsoleConfig | None
    """The web console at `/console/` and its sign-in (issue #22)."""

    cors_origins: list[str]
    """Origins allowed to call the API from a browser (`https://console.example.com`); none by default."""

    listen: str | None
    """Where to listen (`127.0.0.1:8080`); `serve --listen` wins."""

    max_body_bytes: int | None
    """The largest request body accepted, in bytes (default 1 MiB; evidence files up to `max_upload_bytes`)."""

    max_upload_bytes: int | None
    """The largest evidence file accepted, in bytes (default 64 MiB)."""

    oidc: OidcConfig | None
    """OpenID Connect bearer tokens (JWT)."""

    projects: dict[str, ProjectAccess]
    """Project visibility: `[server.projects.NAME] readers = ["alice", "group:qa"]`."""

    rate_limit: int | None
    """Requests per second each identity may make (a token bucket with this burst; default 50)."""

    request_timeout: str | None
    """How long one request may take before it is answered 503 (`30s`); streams are exempt."""

    slack: SlackAppConfig | None
    """Approvals and rejections from Slack's Approve and Reject buttons (issue #23)."""

    tls: TlsFiles | None
    """TLS from certificate files (rustls); plain HTTP without."""


class _SettingsConfigRequired(TypedDict):
    """The keys SettingsConfig requires."""

    file: str
    """The env file, relative to the config file (`deploy/prod.env`)."""


class SettingsConfig(_SettingsConfigRequired, total=False):
    """`[environments.NAME.settings]`: an env file whose keys are recorded (values only as hashes)."""

    secret_keys: list[str]
    """Keys that are secrets besides the usual names (`STRIPE_*`); their values are never recorded."""


class _SlackAppConfigRequired(TypedDict):
    """The keys SlackAppConfig requires."""

    signing_secret_env: str
    """The environment variable holding the app's signing secret (never the secret itself)."""

    team: str
    """The Slack workspace (`team.id`, `T0123ABC`) whose requests count; a
    request from any other workspace is refused."""


class SlackAppConfig(_SlackAppConfigRequired, total=False):
    """`[server.slack]`: the Slack app whose Approve and Reject buttons record
    approvals and rejections through `POST /slack/interactivity` (issue #23).

    Slack authenticates each request by signing it with the app's signing
    secret; the server reads the secret from the environment variable named
    here when it starts, and refuses to start without it.

    ```toml
    [server.slack]
    signing_secret_env = "SLACK_SIGNING_SECRET"   # Basic Information → Signing Secret
    token_env = "SLACK_BOT_TOKEN"                 # xoxb-…, for the Reject dialog (views.open)
    team = "T0123ABC"                             # the workspace whose requests count
    ```"""

    api: str | None
    """The Web API's base URL (default `https://slack.com/api`)."""

    response_hosts: list[str] | None
    """The hosts a `response_url` may name (default `["hooks.slack.com"]`): the
    outcome of a click is posted there and nowhere else."""

    token_env: str | None
    """The environment variable holding the bot token (`xoxb-…`), with which the
    Reject button opens the dialog asking for the reason (`views.open`)."""


class SlackConfig(TypedDict, total=False):
    """`[[notify.slack]]`: an incoming webhook (`webhook_env`) or a channel with a bot token (`channel`, `token_env`)."""

    api: str | None
    """The Web API (default `https://slack.com/api`)."""

    approvals: str | None
    """Where approval requests, reminders and expiries go: `channel` (the
    default) or `direct`, a direct message to each approver with a
    `[users.NAME] slack` id (needs `token_env`, the bot's `chat:write`)."""

    audiences: list[str] | None
    """Send only notices for these audiences (default: all)."""

    channel: str | None
    """The channel for `chat.postMessage` (`C0123` or `#releases`)."""

    console_url: str | None
    """The console's base URL (`https://releases.example.com`): approval
    requests link to the release's page there (issue #23)."""

    timeout: str | None
    """How long a POST may take (`10s`)."""

    token_env: str | None
    """The environment variable holding the bot token (`xoxb-…`)."""

    webhook_env: str | None
    """The environment variable holding the incoming webhook's URL (its path is a secret)."""


class _SmokeStepConfigRequired(TypedDict):
    """The keys SmokeStepConfig requires."""

    name: str
    """Its name."""

    url: str
    """The URL; may use `${name}`."""


class SmokeStepConfig(_SmokeStepConfigRequired, total=False):
    """One request of a `steps` smoke test (R-8f)."""

    body: Any
    """A JSON body (a table, or a string); strings in it may use `${name}`."""

    capture: dict[str, str]
    """Name -> path of a value to keep for later steps (a login token)."""

    exists: list[str]
    """Paths the JSON answer must hold a value at."""

    expect: dict[str, Any]
    """Path -> the value the JSON answer must hold there."""

    headers: dict[str, str]
    """Headers; values may use `${name}`."""

    max_latency: str | None
    """The longest the answer may take (`500ms`, `2s`)."""

    method: str | None
    """The method (`GET`)."""

    status: int | None
    """The expected status (200)."""


_SmtpConfigRequired = TypedDict("_SmtpConfigRequired", {"from": "str", "host": "str"}, total=True)
"""The keys SmtpConfig requires.

- `from`: The sender (`Releases <releases@example.com>`).
- `host`: The server's host name."""


class SmtpConfig(_SmtpConfigRequired, total=False):
    """`[[notify.smtp]]`."""

    ca_file: str | None
    """A PEM file of extra trusted CA certificates (a private relay)."""

    password_env: str | None
    """The environment variable holding the password."""

    port: int | None
    """Its port (587 for `starttls`, 465 for `tls`)."""

    security: str | None
    """`starttls` (default), `tls`, or `none` (a relay on loopback only)."""

    timeout: str | None
    """How long an exchange may take (`30s`)."""

    to: dict[str, list[str]]
    """Recipients by audience: `teams`, `stakeholders`, `clients` (sent as Bcc), or a group's name."""

    user: str | None
    """The user to sign in as, if the server asks."""


class StoreSqlite(TypedDict, total=False):
    """`kind = "sqlite"`: One SQLite file."""

    kind: Literal["sqlite"]

    path: str | None
    """The file (default `STATE_DIR/releases.db`)."""


class _StorePostgresRequired(TypedDict):
    """The keys StorePostgres requires."""

    kind: Literal["postgres"]


class StorePostgres(_StorePostgresRequired, total=False):
    """`kind = "postgres"`: A PostgreSQL database."""

    url_env: str | None
    """The environment variable holding the connection URL."""


StoreConfig = Union["StoreSqlite", "StorePostgres"]
"""`[store]`."""


class _TargetCommandRequired(TypedDict):
    """The keys TargetCommand requires."""

    deploy: list[str]
    """Deploy command (argv; placeholders `{release}`, `{version}`, `{environment}`, `{key}`, `{artifacts}`)."""

    name: str
    """Its name (`web-1`)."""

    rollback: list[str]
    """Rollback command (argv)."""


class TargetCommand(_TargetCommandRequired, total=False):
    """`kind = "command"`: Commands run on this machine."""

    env: dict[str, str]
    """Extra environment variables."""

    idempotent: bool
    """The deploy command is safe to run twice for one key: after a crash it is
    run again rather than left in doubt for a person (R-9d). Default false."""

    kind: Literal["command"]

    status: list[str] | None
    """Status command (argv): exit 0 when the key was done."""

    timeout: str | None
    """How long one command may run (`10m`)."""


class _TargetSshRequired(TypedDict):
    """The keys TargetSsh requires."""

    deploy: list[str]
    """Deploy command (argv), run in `dir`."""

    kind: Literal["ssh"]

    name: str
    """Its name (`web-1`)."""

    rollback: list[str]
    """Rollback command (argv)."""


class TargetSsh(_TargetSshRequired, total=False):
    """`kind = "ssh"`: Commands run on a host over SSH, after the artifacts are uploaded."""

    dir: str | None
    """The folder on the host releases are uploaded to and commands run in."""

    env: dict[str, str]
    """Extra environment variables."""

    host: str | None
    """The host."""

    identity: str | None
    """The private key file (`~/` is the home folder)."""

    known_hosts: str | None
    """The `known_hosts` file the host key is checked against."""

    port: int | None
    """The port (22)."""

    timeout: str | None
    """How long one command may run (`10m`)."""

    user: str | None
    """The user."""


TargetConfig = Union["TargetCommand", "TargetSsh"]
"""A deploy target: commands run here (`kind = "command"`, the default) or on a host over SSH (`kind = "ssh"`)."""


class TicketingLocal(TypedDict, total=False):
    """`kind = "local"`: Tickets in the SQLite store (keys `PREFIX-1`)."""

    kind: Literal["local"]


class _TicketingJiraRequired(TypedDict):
    """The keys TicketingJira requires."""

    kind: Literal["jira"]


class TicketingJira(_TicketingJiraRequired, total=False):
    """`kind = "jira"`: Jira Cloud (REST v3)."""

    email: str | None
    """The account's e-mail."""

    project: str | None
    """The project for release tickets and versions (`SHOP`)."""

    release_issue_type: str | None
    """The issue type of release tickets (default `Task`)."""

    token_env: str | None
    """The environment variable holding the API token."""

    url: str | None
    """The site (`https://acme.atlassian.net`)."""


class _TicketingGithubRequired(TypedDict):
    """The keys TicketingGithub requires."""

    kind: Literal["github"]


class TicketingGithub(_TicketingGithubRequired, total=False):
    """`kind = "github"`: GitHub Issues."""

    owner: str | None
    """The repository's owner."""

    repo: str | None
    """The repository."""

    token_env: str | None
    """The environment variable holding the API token."""

    url: str | None
    """The API (default `https://api.github.com`)."""


TicketingConfig = Union["TicketingLocal", "TicketingJira", "TicketingGithub"]
"""`[ticketing]`."""


class TlsFiles(TypedDict):
    """`[server.tls]`: PEM files."""

    cert: str
    """The certificate chain (PEM)."""

    key: str
    """The private key (PEM)."""


class _UserRequired(TypedDict):
    """The keys User requires."""

    roles: list[str]
    """The roles this person holds."""


class User(_UserRequired, total=False):
    """`[users.NAME]`."""

    email: str | None
    """Their email address."""

    slack: str | None
    """Their Slack member id (`U0123ABC`, or `W…` on Enterprise Grid): a click
    on an Approve or Reject button by this Slack user acts as this user (issue #23)."""

    ssh_keys: list[str]
    """The SSH public keys they sign approvals with (`ssh-ed25519 AAAA… comment`)."""


class VcsConfig(TypedDict, total=False):
    """`[vcs]`."""

    remote: str | None
    """The remote tags are pushed to; none keeps tags local."""


class _WebhookConfigRequired(TypedDict):
    """The keys WebhookConfig requires."""

    url: str
    """Where to POST (no credentials in it)."""


class WebhookConfig(_WebhookConfigRequired, total=False):
    """`[[notify.webhooks]]`."""

    secret_env: str | None
    """The environment variable holding the HMAC secret, if the receiver checks signatures."""

    timeout: str | None
    """How long one POST may take (`10s`)."""


class _WikiConfigRequired(TypedDict):
    """The keys WikiConfig requires."""

    remote: str
    """The wiki's git URL (`git@github.com:acme/shop.wiki.git`) or path."""


class WikiConfig(_WikiConfigRequired, total=False):
    """`[notes.wiki]`."""

    branch: str | None
    """Its branch (default `master`)."""

    page: str | None
    """The page name, with `{version}` and `{release}`."""
