'use strict'
// Loads the native addon through napi's generated loader (native.js) and, when
// it is not there, says which package is missing and how to get it, instead of
// napi's generic advice about an npm bug.

const platformPackage = () => {
  const { platform, arch } = process
  if (platform !== 'linux') return `shipwarden-${platform}-${arch}`
  const glibc = process.report?.getReport?.()?.header?.glibcVersionRuntime
  return `shipwarden-linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

try {
  module.exports = require('./native.js')
} catch (error) {
  if (!/Cannot find native binding|Failed to load native binding/.test(String(error?.message))) throw error
  const { version, napi } = require('./package.json')
  const wanted = platformPackage()
  const supported = napi.targets.join(', ')
  const message =
    `shipwarden: no native addon for this platform (${process.platform}-${process.arch}). ` +
    `It comes in the package ${wanted}@${version}, an optional dependency of shipwarden; ` +
    `it is not installed. If this platform is supported (built for: ${supported}), install it ` +
    `with \`npm install ${wanted}@${version}\` (an install with --omit=optional or --no-optional ` +
    `leaves it out). From a source checkout, build the addon with \`npm run build\` in bindings/node ` +
    `(needs cargo). What the loader tried is in this error's \`cause\`.`
  const missing = new Error(message, { cause: error })
  missing.code = 'ERR_SHIPWARDEN_NATIVE_MISSING'
  throw missing
}
