'use strict'
// A configuration built in code (issue #20): problems name key paths in plain
// words and no file; the commented default is one call away.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sw = require('..')

async function problems(config) {
  const error = await sw.ReleaseManager.open(config).then(
    () => assert.fail('a ConfigError expected'),
    (e) => e,
  )
  assert.ok(error instanceof sw.ConfigError, String(error))
  assert.ok(!error.message.includes('shipwarden.toml') && !error.message.includes('--config'), error.message)
  return error.problems.map((p) => [p.path, p.message])
}

test('a missing key is named by its path in plain words', async () => {
  const found = await problems({ project: { name: 'shop' }, environments: { prod: { targets: [{ name: 'web-1' }] } } })
  assert.deepEqual(found, [['environments.prod.targets[0].deploy', 'is required but missing']])
})

test('an unknown key names the keys of its table', async () => {
  const [[at, message]] = await problems({ project: { name: 'shop', nmae: 'x' } })
  assert.equal(at, 'project.nmae')
  assert.match(message, /not a known key.*ticket_prefix/)
})

test('a wrong type says what was expected; null means not given', async () => {
  const [[at, message]] = await problems({ project: { name: 7 } })
  assert.equal(at, 'project.name')
  assert.match(message, /^expected a string, found integer/)
  const manager = await sw.ReleaseManager.open(
    { project: { name: 'shop', ticket_prefix: null, state_dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sw-')) } },
  )
  assert.deepEqual(await manager.list(), [])
})

test('the commented default is what init writes, and it opens', async () => {
  const text = sw.defaultConfig('shop')
  assert.ok(text.startsWith('#') && text.includes('name = "shop"'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-'))
  fs.writeFileSync(path.join(dir, 'shipwarden.toml'), text)
  const manager = await sw.ReleaseManager.open(path.join(dir, 'shipwarden.toml'))
  assert.deepEqual(await manager.list(), [])
})
