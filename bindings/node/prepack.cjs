'use strict'
// `npm pack`/`npm publish` refuse a package without its native addon: either
// a built `shipwarden.<platform>.node` here (a self-contained local package),
// or optional dependencies on the per-platform packages (what scripts/dist
// stages for publishing).

const fs = require('node:fs')
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'))
const addons = fs.readdirSync('.').filter((f) => /^shipwarden\..+\.node$/.test(f))
const platformPackages = Object.keys(pkg.optionalDependencies ?? {}).filter((n) => n.startsWith('shipwarden-'))

if (addons.length === 0 && platformPackages.length === 0) {
  console.error(
    'refusing to pack shipwarden without its native addon: there is no shipwarden.<platform>.node ' +
      'here and no optional dependency on a platform package. Build it first: `npm run build` ' +
      '(or build:release) in bindings/node for a package that holds the addon, or scripts/dist ' +
      'for the main package plus its per-platform package.',
  )
  process.exit(1)
}
