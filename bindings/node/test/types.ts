// Compile-only (tsc --strict, run by examples.test.cjs): the package's types
// say what the methods accept and return (issue #20): stages and outcomes are
// unions, and the parity methods are typed.
import { ReleaseManager, Stage, InvalidInputError, verifyEvidence } from 'shipwarden'
import type { Outcome, RunOutcome, Stage as StageName, PreviewAction } from 'shipwarden'

export async function typed(manager: ReleaseManager): Promise<void> {
  const outcome: RunOutcome = await manager.run('shop-1.4.0', Stage.STAGING_DEPLOYED)
  const kinds: Outcome[] = ['reached', 'waiting', 'rolled_back', 'failed', 'final']
  // @ts-expect-error: not an outcome
  const wrong: Outcome = 'stopped'
  const stage: StageName = outcome.stage
  const custom: StageName = 'canary_verified' // a stage a policy declares
  const preview: PreviewAction = { action: 'advance', to: Stage.BUILT }
  // @ts-expect-error: `advance` needs `to`
  const incomplete: PreviewAction = { action: 'advance' }
  await manager.preview('shop-1.4.0', 'rita', preview, { at: new Date() })
  const rejected = await manager.reject('shop-1.4.0', 'paul', 'scope', 'SHOP-12 is not ready', { channel: 'email' })
  const reason: string | undefined = rejected.rejections[0]?.comment
  // @ts-expect-error: a rejection needs a reason
  await manager.reject('shop-1.4.0', 'paul', 'scope')
  // @ts-expect-error: a rejection has no comment option: its reason is the comment
  await manager.reject('shop-1.4.0', 'paul', 'scope', 'no', { comment: 'x' })
  const rejectPreview: PreviewAction = { action: 'reject', approval: 'scope', reason: 'not yet' }
  // @ts-expect-error: `reject` needs a reason
  const noReason: PreviewAction = { action: 'reject', approval: 'scope' }
  const statement: string = await manager.rejectionStatement('shop-1.4.0', 'paul', 'scope', 'not yet')
  const due = await manager.due({ at: new Date() })
  const reports = await manager.runDue()
  const bundle = await manager.evidenceBundle('shop-1.4.0')
  const verified = await verifyEvidence(bundle)
  const error = new Error() as unknown
  if (error instanceof InvalidInputError) console.log(error.path)
  console.log(kinds, wrong, stage, custom, incomplete, due[0]?.dueAt, reports[0]?.missed, verified.head, verified.rejections[0]?.reason)
  console.log(reason, rejectPreview, noReason, statement)
}
