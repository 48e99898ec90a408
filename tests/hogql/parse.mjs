// Parse each HogQL file given on the command line with PostHog's parser; print one JSON line
// per file ({"file", "ok", "error"}) and exit 1 when any file fails to parse.
import createHogQLParser from '@posthog/hogql-parser'
import { readFileSync } from 'node:fs'

const parser = await createHogQLParser()
let failed = 0
for (const file of process.argv.slice(2)) {
  const result = JSON.parse(parser.parseSelect(readFileSync(file, 'utf8'), true))
  const ok = !result.error
  if (!ok) failed++
  console.log(JSON.stringify({ file, ok, error: ok ? null : `${result.type}: ${result.message}` }))
}
process.exit(failed ? 1 : 0)
