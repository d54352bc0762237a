// ESM entry point: the same objects as index.cjs.
import shipwarden from './index.cjs'

export const {
  ReleaseManager,
  Stage,
  ShipwardenError,
  RefusedError,
  ConflictError,
  AdapterError,
  ConfigError,
  InvalidInputError,
  NotFoundError,
  IntegrityError,
  parseCommit,
  releaseNotes,
  signStatement,
  defaultConfig,
  verifyEvidence,
} = shipwarden
export default shipwarden
