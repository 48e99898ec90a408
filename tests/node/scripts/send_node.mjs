// Sends events through the generated server tracker and the real posthog-node client to the
// capture server at argv[2]; argv[3] is the compiled @blanklogo/analytics entry point.
// Prints what the tracker returned, as JSON, for the Python test to compare with the wire.
import { pathToFileURL } from "node:url";
import { PostHog } from "posthog-node";

const [host, entry] = process.argv.slice(2);
const analytics = await import(pathToFileURL(entry).href);
const client = new PostHog("phc_test", { host, flushAt: 1, flushInterval: 0, disableGeoip: true });
const worker = analytics.createServerTracker(client, { source: "worker", environment: "staging", validate: true });
const eventId = worker.processingCompleted({
  distinct_id: "usr_1",
  user_id: "usr_1",
  session_id: "sess_42",
  job_id: "job_9",
  mode: "inpaint",
  processing_time_ms: 41000,
  success: true,
  credits_before: 3,
  credits_after: 2,
  timestamp: new Date("2026-11-20T12:30:00Z"),
});
const server = analytics.createServerTracker(client, { source: "server", validate: true });
const identifyId = server.identify({ user_id: "usr_7", anonymous_id: "anon_abc" });
server.alias({ user_id: "usr_7", anonymous_id: "anon_abc" });
let violation = null;
try {
  worker.processingCompleted({ distinct_id: "usr_1", user_id: "usr_1", job_id: "job_9", mode: "blur",
    processing_time_ms: 1, success: true, credits_before: 1, credits_after: 0 });
} catch (error) {
  violation = { name: error.name, problems: error.violation.problems };
}
const reported = [];
const lenient = analytics.createServerTracker(client, {
  source: "worker", validate: true, onViolation: (v) => reported.push([v.event, v.problems]),
});
lenient.processingCompleted({ distinct_id: "usr_1", user_id: "usr_1", job_id: "job_9", mode: "blur",
  processing_time_ms: 1, success: true, credits_before: 1, credits_after: 0 });
await client.shutdown();
console.log(JSON.stringify({ eventId, identifyId, violation, reported, hasLandingView: "landingView" in worker }));
