// Types of the `shipwarden` package: the objects come from the addon's
// generated `native.d.ts`; the classes and port shapes are the wrapper's (index.cjs).

import type {
  Actor,
  ApproveOptions,
  ArtifactRef,
  AuditEvent,
  AuditReport,
  Checkpoint,
  Commit,
  CommitInput,
  EvidenceOptions,
  ListQuery,
  LogEvent,
  Plan,
  Release,
  ReleaseNotes,
  ReleaseStatus,
  ReleaseSummary,
  ResolveOptions,
  RunOutcome,
  StepOptions,
  Unmet,
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
  EvidenceOptions,
  GateResult,
  Hotfix,
  ListQuery,
  LogEvent,
  NextStage,
  Plan,
  Refusal,
  Release,
  ReleaseNotes,
  ReleaseStatus,
  ReleaseSummary,
  ResolveOptions,
  RunOutcome,
  Step,
  StepOptions,
  Unmet,
  VerifyOptions,
} from './native'

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
  line(text: string, stream?: 'stdout' | 'stderr' | 'info'): void
  stdout(text: string): void
  stderr(text: string): void
}

/** A machine, cluster or service a release is deployed to (R-8e, R-8g). */
export interface DeployTarget {
  name: string
  deploy(request: DeployRequest, log: Log): MaybePromise<string | void>
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
}

/** Chat, mail or any channel that tells people. */
export interface Notifier {
  name: string
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
  get(key: string): MaybePromise<Ticket>
  openBugs(scope: string[], severities: string[]): MaybePromise<Ticket[]>
  comment(key: string, body: string): MaybePromise<void>
  transition(key: string, status: string): MaybePromise<void>
  createReleaseTicket(plan: { release: string; project: string; version: string; kind: string; scope: string[] }): MaybePromise<string>
}

/** Where versioned artifacts live (R-8b, R-8c). */
export interface ArtifactStore {
  put(name: string, version: string, path: string): MaybePromise<ArtifactRef>
  get(artifact: ArtifactRef): MaybePromise<Uint8Array | number[]>
  exists(artifact: ArtifactRef): MaybePromise<boolean>
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
  backup(environment: string, key: string): MaybePromise<BackupRef>
  verify(backup: BackupRef): MaybePromise<string | void>
  restore(backup: BackupRef): MaybePromise<string | void>
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
  readonly stage: string | null
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
}

/** The configuration has problems. */
export declare class ConfigError extends ShipwardenError {
  readonly code: 'CONFIG'
  readonly problems: { path: string; message: string }[]
}

/** An argument is not valid. */
export declare class InvalidInputError extends ShipwardenError {}

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

/** Runs releases; every operation returns a Promise. */
export declare class ReleaseManager {
  private constructor()
  /** Opens a manager from a shipwarden.toml path, an object of the same shape, or nothing (in memory). */
  static open(config?: string | Config | null, options?: OpenOptions): Promise<ReleaseManager>
  actor(user: string): Actor
  advanceClock(seconds: number): void
  policyToml(): string
  plan(actor: Who, plan: Plan): Promise<Release>
  /** Records an approval; `{ signature, statement }` prove who approves (issue #19, R-2d). */
  approve(release: string, actor: Who, approval: string, options?: ApproveOptions): Promise<Release>
  /** The statement to sign for an approval (issue #19): the exact bytes for `ssh-keygen -Y sign -n shipwarden`. */
  approvalStatement(release: string, actor: Who, approval: string, options?: ApproveOptions): Promise<string>
  /** The release's signed checkpoints, by sequence (R-9d). */
  checkpoints(release: string): Promise<Checkpoint[]>
  /** Verifies the audit trail as `audit --verify` does (R-9d); throws `IntegrityError` naming the sequence. */
  verifyAudit(release: string, options?: VerifyOptions): Promise<AuditReport>
  recordEvidence(release: string, actor: Who, gate: string, value: number, source: string, options?: EvidenceOptions): Promise<Release>
  advance(release: string, actor: Who, to: string): Promise<Release>
  schedule(release: string, actor: Who, environment: string, start: string | Date, end: string | Date): Promise<Release>
  cancel(release: string, actor: Who, reason: string): Promise<Release>
  rollback(release: string, actor: Who, reason: string): Promise<Release>
  reportStep(release: string, actor: Who, step: string, options?: StepOptions): Promise<Release>
  /** Says how a step in doubt ended, after checking its target (R-9d): `done` or failed, with what was checked. */
  resolve(release: string, actor: Who, step: string, options: ResolveOptions): Promise<Release>
  status(release: string): Promise<ReleaseStatus>
  history(release: string): Promise<AuditEvent[]>
  list(query?: ListQuery): Promise<ReleaseSummary[]>
  run(release: string, until?: string): Promise<RunOutcome>
  verify(release: string): Promise<RunOutcome>
  deploy(release: string, environment: string): Promise<Release>
  notes(release: string): Promise<string>
  on(kind: 'event', listener: (event: AuditEvent) => void): this
  on(kind: 'log', listener: (line: LogEvent) => void): this
  off(kind: 'event', listener: (event: AuditEvent) => void): this
  off(kind: 'log', listener: (line: LogEvent) => void): this
  events(kind?: 'event'): AsyncIterableIterator<AuditEvent>
  events(kind: 'log'): AsyncIterableIterator<LogEvent>
}

/** Signs an approval statement with an SSH key file (or a `.pub` whose private half ssh-agent holds). */
export declare function signStatement(statement: string, keyFile: string): string
/** The commented `shipwarden.toml` that `shipwarden init` writes for `project` (the shape of a config object: `Config`). */
export declare function defaultConfig(project: string): string

/** Parses a commit message. */
export declare function parseCommit(subject: string, options?: Omit<CommitInput, 'subject'>): Commit

/** Release notes for commits (oldest first). */
export declare function releaseNotes(project: string, commits: CommitInput[], options?: { version?: string; date?: string }): ReleaseNotes
