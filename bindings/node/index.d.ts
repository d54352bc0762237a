// Types of the `shipwarden` package: the objects come from the addon's
// generated `native.d.ts`; the classes and port shapes are the wrapper's (index.cjs).

import type * as Native from './native'
import type {
  Actor,
  ApproveOptions,
  ArtifactRef,
  AuditEvent,
  AuditReport,
  Checkpoint,
  Commit,
  CommitInput,
  Duty,
  DutyReport,
  EvidenceOptions,
  EvidenceVerified,
  Finding,
  LeaseInfo,
  LogEvent,
  PreviewEvent,
  PublishedHead,
  RejectOptions,
  ReleaseNotes,
  ResolveOptions,
  SignedOptions,
  StepError,
  StepOptions,
  Unmet,
  UnpublishedHead,
  VerifyOptions,
} from './native'
import type { Config } from './config'

export type * from './config'

export type {
  Actor,
  Approval,
  ApproveOptions,
  ArtifactRef,
  AuditEvent,
  AuditReport,
  Checkpoint,
  Commit,
  CommitInput,
  Duty,
  DutyReport,
  EvidenceOptions,
  EvidenceVerified,
  Finding,
  GateResult,
  Hotfix,
  LeaseInfo,
  LogEvent,
  PreviewEvent,
  PublishedHead,
  RejectOptions,
  ReleaseNotes,
  ResolveOptions,
  SignedOptions,
  Step,
  StepOptions,
  Unmet,
  UnpublishedHead,
  VerifiedApproval,
  VerifiedRejection,
  VerifyOptions,
} from './native'

/** The built-in stages, in order; a policy may declare its own (any other string). */
export type BuiltInStage =
  | 'planned'
  | 'scope_approved'
  | 'built'
  | 'staging_deployed'
  | 'qa_verified'
  | 'integration_tested'
  | 'test_deployed'
  | 'accepted'
  | 'prod_ready'
  | 'deploying'
  | 'verifying'
  | 'released'
  | 'rolling_back'
  | 'rolled_back'
  | 'cancelled'
  | 'closed'

/** A stage: a built-in one (completed by editors), or one the policy declares. */
export type Stage = BuiltInStage | (string & {})

/** Where a run stopped: at the stage asked for, waiting for people, failed on a step, rolled back, or final. */
export type Outcome = 'reached' | 'waiting' | 'rolled_back' | 'failed' | 'final'

/** Where a run stopped; `refusal` says what it waits for. */
export type RunOutcome = Omit<Native.RunOutcome, 'outcome' | 'stage'> & { outcome: Outcome; stage: Stage }

/** A release: the fold of its audit events. */
export type Release = Omit<Native.Release, 'stage' | 'path'> & { stage?: Stage; path: Stage[] }

/** A possible next stage and what it still needs. */
export type NextStage = Omit<Native.NextStage, 'stage'> & { stage: Stage }

/** The refusal of a move: the rule, the stage, and every unmet requirement. */
export type Refusal = Omit<Native.Refusal, 'stage'> & { stage?: Stage }

/** The release's state and what each way forward still needs. */
export type ReleaseStatus = Omit<Native.ReleaseStatus, 'release' | 'stage' | 'next'> & { release: Release; stage?: Stage; next: NextStage[] }

/** A row of `list`. */
export type ReleaseSummary = Omit<Native.ReleaseSummary, 'stage'> & { stage: Stage }

/** A listing row that disagrees with its release's chain (R-9d). */
export type ListingMismatch = Omit<Native.ListingMismatch, 'stored' | 'derived'> & { stored?: ReleaseSummary; derived: ReleaseSummary }

/** Releases as their chains say, with the listing rows that disagree (R-9d). */
export interface Listing {
  releases: ReleaseSummary[]
  mismatches: ListingMismatch[]
}

/** A filter for `list` and `listChecked`. */
export type ListQuery = Omit<Native.ListQuery, 'stage'> & { stage?: Stage }

/** A plan: the release's project, version and kind. */
export type Plan = Native.Plan

/** A time: an RFC 3339 string or a Date. */
export type Time = string | Date

/** `{ at }`: judge or perform as at another time than now. */
export interface AtOptions {
  at?: Time
}

/** A command to preview: `action` names it, the other fields are its arguments. */
export type PreviewAction =
  | { action: 'plan'; plan: Plan }
  | { action: 'approve'; approval: string; role?: string; channel?: string; comment?: string }
  | { action: 'reject'; approval: string; reason: string; role?: string; channel?: string }
  | { action: 'record_evidence'; gate: string; value: number; source?: string; environment?: string; target?: string }
  | { action: 'advance'; to: Stage }
  | { action: 'schedule'; environment: string; start: Time; end: Time }
  | { action: 'override_window'; reason: string }
  | { action: 'resolve_step'; key: string; done: boolean; reason: string }
  | { action: 'cancel'; reason: string }

/** An action other than an approval whose statement a person signs (issue #19, R-2d). */
export type SignedAction = 'rollback' | 'override_window' | 'emergency_plan'

/**
 * A release's evidence bundle (R-9d), as `shipwarden evidence bundle` writes it: the bundle
 * (snake_case, as stored) and its Ed25519 signature when a signing key is configured.
 */
export interface EvidenceBundle {
  bundle: {
    format: string
    release: string
    created_at: string
    stage: string
    audit: { events: number; head: string; chain: unknown[] }
    [section: string]: unknown
  }
  signature?: { algorithm: string; public_key: string; value: string }
}

/** A value, or a Promise of one: port methods may be sync or async. */
export type MaybePromise<T> = T | Promise<T>

/** Who acts: an actor, or the name of a user in the configuration's `[users]`. */
export type Who = Actor | string

/** What a deploy target is asked to deploy. */
export interface DeployRequest {
  release: string
  version: string
  environment: string
  artifacts: ArtifactRef[]
  /** The idempotency key of this deployment of this target. */
  key: string
}

/** What a deploy target is asked to roll back. */
export interface RollbackRequest {
  release: string
  environment: string
  /** The previous working release's artifacts, if known. */
  previous: ArtifactRef[]
  key: string
}

/** Where a port writes its log; lines reach the step's record and `on('log')` listeners as they are written. */
export interface Log {
  /** Writes a line to `stream` (default stdout). */
  line(text: string, stream?: 'stdout' | 'stderr' | 'info'): void
  /** Writes a line to stdout. */
  stdout(text: string): void
  /** Writes a line to stderr. */
  stderr(text: string): void
}

/** A machine, cluster or service a release is deployed to (R-8e, R-8g). */
export interface DeployTarget {
  name: string
  /** Deploys the release here; answers with a summary. A throw or a rejection is the step's failure (`retryable` on the error says whether to try again). */
  deploy(request: DeployRequest, log: Log): MaybePromise<string | void>
  /** Puts the previous release back; answers with a summary. */
  rollback(request: RollbackRequest, log: Log): MaybePromise<string | void>
  /** What became of the deployment with this key: a summary if it happened, null if not. Optional. */
  status?(key: string): MaybePromise<string | null>
}

/** A message about a release (R-9a). */
export interface Notice {
  key: string
  release: string
  subject: string
  body: string
  /** `teams`, `stakeholders`, `clients`, or a group's name. */
  audience: string[]
  /** The approval it asks for: an approval request, reminder or expiry (issue #23). */
  ask?: ApprovalAsk
}

/** An approval a notice asks for: what a person needs to decide (R-2b). */
export interface ApprovalAsk {
  approval: string
  /** The roles that may give it. */
  roles: string[]
  needed: number
  have: number
  /** The stage the release waits in. */
  stage: string
  /** When the release entered that stage (RFC 3339); approval links bind it. */
  entered?: string
  project: string
  version: string
  kind: string
  tickets: string[]
  /** Each gate's latest value against its threshold. */
  gates: string[]
  /** What each way forward from the stage still needs. */
  missing: string[]
}

/** Chat, mail or any channel that tells people. */
export interface Notifier {
  name: string
  /** Sends the notice; the same `key` may come twice after a crash: send it once. */
  send(notice: Notice): MaybePromise<void>
}

/** A measured value for a gate. */
export interface Measurement {
  gate: string
  value: number
  target?: string
  source?: string
}

/** Measures an environment (R-8a) or smoke-tests it (R-8f). */
export interface Probe {
  name: string
  /** Measures `environment`: measurements, or `{ gate: value }`. */
  check(environment: string): MaybePromise<Measurement[] | Record<string, number>>
}

/** A ticket as a tracker reports it. */
export interface Ticket {
  key: string
  summary: string
  status: string
  kind: string
  severity?: string
}

/** Jira, GitHub Issues or any tracker (R-4b, R-7b, R-9d). */
export interface Ticketing {
  /** The ticket `key`. */
  get(key: string): MaybePromise<Ticket>
  /** Open bugs of these severities in the scope's tickets or components. */
  openBugs(scope: string[], severities: string[]): MaybePromise<Ticket[]>
  /** Adds a comment to a ticket. */
  comment(key: string, body: string): MaybePromise<void>
  /** Moves a ticket to `status`. */
  transition(key: string, status: string): MaybePromise<void>
  /** Creates the release's ticket; answers with its key. */
  createReleaseTicket(plan: { release: string; project: string; version: string; kind: string; scope: string[] }): MaybePromise<string>
}

/** Where versioned artifacts live (R-8b, R-8c). */
export interface ArtifactStore {
  /** Stores the built file at `path` as `name` `version`; answers with its reference (and digest). */
  put(name: string, version: string, path: string): MaybePromise<ArtifactRef>
  /** The artifact's bytes. */
  get(artifact: ArtifactRef): MaybePromise<Uint8Array | number[]>
  /** Whether the artifact is stored. */
  exists(artifact: ArtifactRef): MaybePromise<boolean>
  /** The versions stored under `name`. */
  versions(name: string): MaybePromise<string[]>
}

/** A backup that was taken. */
export interface BackupRef {
  id: string
  environment: string
  size?: number
  sha256?: string | null
  at?: string
}

/** Backs up and restores an environment (R-8c, R-8g). */
export interface Backup {
  /** Backs up `environment` under the idempotency `key`. */
  backup(environment: string, key: string): MaybePromise<BackupRef>
  /** Checks the backup can be restored; throws when not. */
  verify(backup: BackupRef): MaybePromise<string | void>
  /** Restores the backup. */
  restore(backup: BackupRef): MaybePromise<string | void>
  /** The backup taken under `key`, if any (after a crash). Optional. */
  find?(key: string): MaybePromise<BackupRef | null>
}

/** Options of `ReleaseManager.open`. */
export interface OpenOptions {
  /** Where relative paths of an object config start (default: the working directory). */
  baseDir?: string
  /** A fixed time for the manager's clock, for tests and rehearsals. */
  clock?: string | Date
  targets?: Record<string, DeployTarget | DeployTarget[]>
  checks?: Record<string, Probe | Probe[]>
  smoke?: Record<string, Probe | Probe[]>
  notifiers?: Notifier[]
  ticketing?: Ticketing
  artifacts?: ArtifactStore
  backup?: Backup
}

/** The stages the procedure defines. */
export declare const Stage: Readonly<{
  PLANNED: 'planned'
  SCOPE_APPROVED: 'scope_approved'
  BUILT: 'built'
  STAGING_DEPLOYED: 'staging_deployed'
  QA_VERIFIED: 'qa_verified'
  INTEGRATION_TESTED: 'integration_tested'
  TEST_DEPLOYED: 'test_deployed'
  ACCEPTED: 'accepted'
  PROD_READY: 'prod_ready'
  DEPLOYING: 'deploying'
  VERIFYING: 'verifying'
  RELEASED: 'released'
  ROLLING_BACK: 'rolling_back'
  ROLLED_BACK: 'rolled_back'
  CANCELLED: 'cancelled'
  CLOSED: 'closed'
}>

/** The stable codes of `ShipwardenError`. */
export type ErrorCode = 'REFUSED' | 'CONFLICT' | 'ADAPTER' | 'CONFIG' | 'INVALID_INPUT' | 'NOT_FOUND' | 'INTEGRITY'

/** Base of every error shipwarden throws. */
export declare class ShipwardenError extends Error {
  readonly code: ErrorCode
  /** True when the same call may succeed later. */
  readonly retryable: boolean
}

/** The policy refused. */
export declare class RefusedError extends ShipwardenError {
  readonly code: 'REFUSED'
  readonly rule: string
  readonly stage: Stage | null
  readonly attempted: string
  readonly unmet: Unmet[]
}

/** Another driver kept changing the release, or holds its lease. */
export declare class ConflictError extends ShipwardenError {
  readonly code: 'CONFLICT'
}

/** An outside system failed. */
export declare class AdapterError extends ShipwardenError {
  readonly code: 'ADAPTER'
  readonly port: string | null
  readonly operation: string | null
  readonly kind: string | null
  /** The underlying errors, outermost first (also as the `cause` chain). */
  readonly causes: string[]
  /** When `kind` is `step_failed` (a `deploy()` whose target failed): the step and its port error. */
  readonly step: StepError | null
}

/** The configuration has problems. */
export declare class ConfigError extends ShipwardenError {
  readonly code: 'CONFIG'
  readonly problems: { path: string; message: string }[]
}

/** An argument is not valid: a type, an unknown option key, a name, a version, a date. */
export declare class InvalidInputError extends ShipwardenError {
  /** The argument's path (`plan.version`, `options.targets`) when the mistake is in one; null otherwise. */
  readonly path: string | null
}

/** No such release. */
export declare class NotFoundError extends InvalidInputError {
  readonly code: 'NOT_FOUND'
}

/** The audit trail does not verify (R-9d). */
export declare class IntegrityError extends ShipwardenError {
  readonly code: 'INTEGRITY'
  readonly release: string | null
  /** The sequence where the trail and what is known about it disagree; null when at none. */
  readonly sequence: number | null
}

/**
 * Runs releases; every operation returns a Promise. A wrong argument (a type, an unknown option
 * key) rejects with `InvalidInputError` naming its path; it never throws synchronously.
 */
export declare class ReleaseManager {
  private constructor()
  /** Opens a manager from a shipwarden.toml path, an object of the same shape, or nothing (in memory), with JavaScript ports on top. */
  static open(config?: string | Config | null, options?: OpenOptions): Promise<ReleaseManager>
  /** The actor of a configured user (`[users.NAME]`). Throws `InvalidInputError` for an unknown user. */
  actor(user: string): Actor
  /** Moves a fixed clock (one opened with `clock`) forward by `seconds`. */
  advanceClock(seconds: number): void
  /** The policy in force, as TOML. */
  policyToml(): string
  /** The stages the policy declares, in order: the built-in ones and its own. */
  stages(): Stage[]
  /** This manager's driver id: the start of the holder of every lease it takes. */
  driver(): string
  /** The configured checkpoint and bundle signer's public key (hex); null without one. */
  signingKey(): string | null
  /** The signed heads that could not be published since the last call (R-9d). */
  takeUnpublished(): UnpublishedHead[]
  /** Plans a release (R-1a, R-3); `{ signature, statement }` prove who plans an emergency release (R-2d). */
  plan(actor: Who, plan: Plan, options?: SignedOptions): Promise<Release>
  /** Records an approval (R-2c); `{ signature, statement }` prove who approves (issue #19, R-2d). */
  approve(release: string, actor: Who, approval: string, options?: ApproveOptions): Promise<Release>
  /** The statement to sign for an approval (issue #19): the exact bytes for `ssh-keygen -Y sign -n shipwarden`. */
  approvalStatement(release: string, actor: Who, approval: string, options?: ApproveOptions): Promise<string>
  /**
   * Rejects an approval with a reason (R-2b, R-2c): the approval's checks apply; the rejection blocks every
   * transition needing the approval until the same person approves. `{ signature, statement }` (from
   * `rejectionStatement`) prove who rejects (R-2d); an approval's signature does not.
   */
  reject(release: string, actor: Who, approval: string, reason: string, options?: RejectOptions): Promise<Release>
  /** The statement to sign for a rejection (`shipwarden rejection statement v1`), the reason as its comment (R-2c, R-2d). */
  rejectionStatement(release: string, actor: Who, approval: string, reason: string, options?: RejectOptions): Promise<string>
  /** The statement to sign for a rollback, a window override or an emergency plan, with the reason it will give (R-2d). */
  actionStatement(release: string, actor: Who, action: SignedAction, reason: string): Promise<string>
  /** The release's signed checkpoints, by sequence (R-9d); not verified here: see `verifyAudit`. */
  checkpoints(release: string): Promise<Checkpoint[]>
  /**
   * Verifies the audit trail as `audit --verify` does (R-9d): its chain and checkpoints, and what is known
   * from elsewhere: a `head` hash, `published` signed heads (a `<release>.heads.json`, a checkpoint, a ticket
   * comment), an evidence `bundle`. Rejects with `IntegrityError` where they disagree.
   */
  verifyAudit(release: string, options?: VerifyOptions): Promise<AuditReport>
  /** Records a measured value for a gate, in the gate's unit (a ratio gate takes 0.93, not 93) (R-7g). */
  recordEvidence(release: string, actor: Who, gate: string, value: number, source: string, options?: EvidenceOptions): Promise<Release>
  /** Moves the release to a stage, if the policy allows it now. */
  advance(release: string, actor: Who, to: Stage): Promise<Release>
  /** Books a deployment window (R-6a); conflicts are refused (R-6e). */
  schedule(release: string, actor: Who, environment: string, start: Time, end: Time): Promise<Release>
  /** Overrides blackout windows and freezes, with a reason (R-6b); `{ signature, statement }` prove who (R-2d). */
  overrideWindow(release: string, actor: Who, reason: string, options?: SignedOptions): Promise<Release>
  /** Cancels a release that has not reached production. */
  cancel(release: string, actor: Who, reason: string): Promise<Release>
  /** Rolls the release back (R-8g); `{ signature, statement }` prove who (R-2d). */
  rollback(release: string, actor: Who, reason: string, options?: SignedOptions): Promise<Release>
  /** Reports a step people or another system performed. */
  reportStep(release: string, actor: Who, step: string, options?: StepOptions): Promise<Release>
  /** Says how a step in doubt ended, after checking its target (R-9d): `done` or failed, with what was checked. */
  resolve(release: string, actor: Who, step: string, options: ResolveOptions): Promise<Release>
  /** The events a command would record at `at` (default now), decided as the real call decides, with nothing recorded; rejects with the refusal. */
  preview(release: string, actor: Who, action: PreviewAction, options?: AtOptions): Promise<PreviewEvent[]>
  /** The release's state and what each way forward still needs, now or as judged at `at`. */
  status(release: string, options?: AtOptions): Promise<ReleaseStatus>
  /** The release: the fold of its audit events. */
  state(release: string): Promise<Release>
  /** What went wrong without stopping the release: notices sent after their deadline (R-5c, R-6d). */
  findings(release: string): Promise<Finding[]>
  /** The audit trail, oldest first. */
  history(release: string): Promise<AuditEvent[]>
  /** Releases, each as its chain says (R-9d). */
  list(query?: ListQuery): Promise<ReleaseSummary[]>
  /** Releases as their chains say, with the listing rows that disagree (R-9d). */
  listChecked(query?: ListQuery): Promise<Listing>
  /** Who holds the lease `name` (`release:shop-1.4.0`, `env:prod`); null when nobody does. */
  lease(name: string): Promise<LeaseInfo | null>
  /** The ticket keys of the commits since the last release tag: a plan's default scope (R-4a). */
  defaultScope(version: string): Promise<string[]>
  /** Every duty due at `at` (default now) in every release not final: notices and reminders (R-2b, R-5c, R-6d). */
  due(options?: AtOptions): Promise<Duty[]>
  /** Performs every duty due at `at` (default now), each exactly once; for a scheduler. */
  runDue(options?: AtOptions): Promise<DutyReport[]>
  /** Runs the release as far as it can go, or to `until` (a stage the policy declares, else refused naming them). */
  run(release: string, until?: Stage): Promise<RunOutcome>
  /** Runs the production verification (R-8f): releases, or rolls back (R-8g). */
  verify(release: string): Promise<RunOutcome>
  /** Deploys to one environment now, and returns the release. */
  deploy(release: string, environment: string): Promise<Release>
  /** The release notes, as Markdown. */
  notes(release: string): Promise<string>
  /** The release's evidence bundle as of now, signed when `[evidence] signing_key_env` is set (R-9d). */
  evidenceBundle(release: string): Promise<EvidenceBundle>
  /** Checks an evidence bundle as `verifyEvidence` does, pinned to `[evidence] public_key` unless `publicKey` is given. */
  verifyEvidence(bundle: EvidenceBundle | string, options?: { publicKey?: string }): Promise<EvidenceVerified>
  /** Publishes the newest signed head again to every `[evidence] publish_heads` destination (R-9d). */
  publishHeads(release: string): Promise<PublishedHead[]>
  /** Calls `listener` with every audit event as it is appended. */
  on(kind: 'event', listener: (event: AuditEvent) => void): this
  /** Calls `listener` with every step log line as it is written. */
  on(kind: 'log', listener: (line: LogEvent) => void): this
  /** Stops calling `listener`. */
  off(kind: 'event', listener: (event: AuditEvent) => void): this
  /** Stops calling `listener`. */
  off(kind: 'log', listener: (line: LogEvent) => void): this
  /** An async iterator of every audit event from now on; `break` ends it. */
  events(kind?: 'event'): AsyncIterableIterator<AuditEvent>
  /** An async iterator of every step log line from now on; `break` ends it. */
  events(kind: 'log'): AsyncIterableIterator<LogEvent>
}

/**
 * Checks an evidence bundle offline, as `shipwarden evidence verify` does (R-9d): its signature (by
 * `publicKey` when given), its chain, every section against the chain, every signed approval.
 * Rejects with `IntegrityError` when it does not verify.
 */
export declare function verifyEvidence(bundle: EvidenceBundle | string, options?: { publicKey?: string }): Promise<EvidenceVerified>

/** Signs an approval statement with an SSH key file (or a `.pub` whose private half ssh-agent holds). */
export declare function signStatement(statement: string, keyFile: string): string
/** The commented `shipwarden.toml` that `shipwarden init` writes for `project` (the shape of a config object: `Config`). */
export declare function defaultConfig(project: string): string

/** Parses a commit message. */
export declare function parseCommit(subject: string, options?: Omit<CommitInput, 'subject'>): Commit

/** Release notes for commits (oldest first). */
export declare function releaseNotes(project: string, commits: CommitInput[], options?: { version?: string; date?: string }): ReleaseNotes
