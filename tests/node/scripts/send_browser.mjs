// Runs real posthog-js under jsdom with the generated browser tracker and a recording `fbq`
// (Meta's Pixel script cannot load here), sending to the capture server at argv[2]; argv[3] is
// the compiled @blanklogo/analytics entry point. Prints tracker results and Pixel calls as JSON.
import { pathToFileURL } from "node:url";
import { JSDOM } from "jsdom";

const [host, entry] = process.argv.slice(2);
const dom = new JSDOM("<!doctype html><html><body></body></html>", {
  url: "https://blanklogo.app/?utm_source=facebook&fbclid=IwAR2xYz",
  pretendToBeVisual: true,
});
for (const key of ["window", "document", "navigator", "location", "localStorage", "sessionStorage", "XMLHttpRequest", "screen", "HTMLElement", "Node", "Element"]) {
  Object.defineProperty(globalThis, key, { value: dom.window[key], configurable: true, writable: true });
}
// Count posthog-js's requests (it keeps the fetch it finds at import), to wait for them below.
let pending = 0;
let fetches = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  pending += 1;
  fetches += 1;
  try {
    return await realFetch(...args);
  } finally {
    pending -= 1;
  }
};
// posthog-js ships CommonJS as `main`: its instance is the `posthog` export.
const posthogModule = await import("posthog-js");
const posthog = posthogModule.posthog ?? posthogModule.default.posthog;
const analytics = await import(pathToFileURL(entry).href);

posthog.init("phc_test", {
  api_host: host,
  autocapture: false,
  capture_pageview: false,
  capture_pageleave: false,
  disable_session_recording: true,
  disable_surveys: true,
  advanced_disable_flags: true,
  persistence: "memory",
  request_batching: false,
  // The plan names anonymous people anon_...; posthog-js would otherwise pick a bare UUIDv7.
  bootstrap: { distinctID: `anon_${globalThis.crypto.randomUUID()}`, isIdentifiedID: false },
});
const pixel = [];
const fbq = (...args) => pixel.push(args);
let consent = true;
const tracker = analytics.createTracker(posthog, { fbq, adsConsent: () => consent, validate: true, environment: "dev" });
const anonymousId = posthog.get_distinct_id();
const landingId = tracker.landingView({ page_path: "/", device: "desktop", utm_source: "facebook" });
consent = false;
tracker.pricingView({ page_path: "/pricing", device: "desktop" });
consent = true;
const checkoutId = tracker.checkoutStarted({ sku: "pro_monthly", billing_period: "monthly", price: 19, currency: "USD" });
tracker.identify({ user_id: "usr_7" });
let violation = null;
try {
  tracker.landingView({ page_path: "no-slash", device: "fridge" });
} catch (error) {
  violation = { name: error.name, problems: error.violation.problems };
}
// Let posthog-js hand its requests to fetch, then wait until none is in flight (10 s at most).
for (let waited = 0; waited < 10000 && (waited < 300 || pending > 0); waited += 50) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
console.log(JSON.stringify({ fetches, anonymousId, landingId, checkoutId, pixel, violation, hasProcessing: "processingCompleted" in tracker }));
process.exit(0);
