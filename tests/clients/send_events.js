// Sends a small web shop's and mobile app's tracking calls to a cdphub ingest API through
// Segment's own Node library, used exactly as an application would: nothing here patches it or
// replaces its HTTP client, so what the hub receives is what production clients send.
//
// Usage: node send_events.js HOST WRITE_KEY
//   HOST       the hub, e.g. http://127.0.0.1:8088 (the library appends /v1/batch)
//   WRITE_KEY  a write key of one of hub.json's ingest_api sources
//
// Every call has a fixed messageId, so running the script twice resends the same events: the
// hub must store each once (segment_client_test checks the store). Exits 0 only when the library
// reported every call as delivered, and non-zero on anything it reports as failed.
'use strict';

const { Analytics } = require('@segment/analytics-node');

const [host, writeKey] = process.argv.slice(2);
if (!host || !writeKey) {
  console.error('usage: node send_events.js HOST WRITE_KEY');
  process.exit(2);
}

const failures = [];
const delivered = [];
let requests = 0;

function fail(what) {
  failures.push(what);
}
process.on('unhandledRejection', (e) => fail(`unhandled rejection: ${e && e.stack ? e.stack : e}`));

const analytics = new Analytics({
  writeKey,
  host,
  // Small batches, so the calls arrive as several /v1/batch requests (several inbox commits)
  // rather than one, and a short interval so that a partial batch does not wait 10 s.
  flushAt: 3,
  flushInterval: 200,
  // Its default; named because a hub that answered 5xx would otherwise look like a slow test.
  maxRetries: 3,
});
analytics.on('error', (e) => fail(`library error ${e.code}: ${e.reason && e.reason.message ? e.reason.message : e.reason}`));
analytics.on('call_after_close', (e) => fail(`call after close: ${e.type} ${e.messageId}`));
analytics.on('http_request', () => {
  requests += 1;
});

// The callback the library calls once it knows the fate of an event.
function settled(err, ctx) {
  const id = ctx && ctx.event ? ctx.event.messageId : '?';
  if (err) fail(`${id}: ${err && err.message ? err.message : err}`);
  else delivered.push(id);
}

const hour = 3600 * 1000;
const now = Date.now();

// Contexts as a browser and a phone would report them.
const webContext = {
  ip: '203.0.113.7',
  locale: 'de-DE',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  page: { path: '/pricing', url: 'https://shop.cdphub.test/pricing', title: 'Pricing' },
};
const phoneContext = {
  device: { type: 'ios', model: 'iPhone15,2' },
  os: { name: 'iOS', version: '17.4' },
  app: { name: 'Shop', version: '5.2.0', build: '520' },
};

async function main() {
  // Ann browses anonymously, then signs up: the alias is sent later, once the anonymous calls
  // are acknowledged, as a sign-up form would, so the hub sees two profiles and then merges them.
  analytics.page({
    messageId: 'segclient-ann-page',
    anonymousId: 'anon-ann-7f3a',
    category: 'Docs',
    name: 'Pricing',
    properties: { path: '/pricing', referrer: 'https://search.cdphub.test/?q=tea' },
    context: webContext,
  }, settled);
  analytics.track({
    messageId: 'segclient-ann-viewed',
    anonymousId: 'anon-ann-7f3a',
    event: 'Product Viewed',
    properties: { sku: 'TEA-01', price: 12.5, currency: 'EUR', tags: ['green', 'loose'] },
    context: { ...webContext, campaign: { source: 'newsletter', medium: 'email', name: 'spring' } },
  }, settled);
  analytics.identify({
    messageId: 'segclient-ann-identify',
    userId: 'user-ann',
    traits: { email: 'Ann.Lee@Shop-Mail.io', first_name: 'Ann', plan: 'plus' },
    context: webContext,
  }, settled);

  // Bob: known on the web, then seen on his phone with only an anonymous id and his email.
  // Explicit timestamps an hour apart, so that "most recent" trait precedence has one answer.
  analytics.identify({
    messageId: 'segclient-bob-identify-web',
    userId: 'user-bob',
    traits: { email: 'bob.stone@northwind-mail.io', name: 'Bob Stone', plan: 'free' },
    timestamp: new Date(now - 2 * hour),
    context: webContext,
  }, settled);
  analytics.identify({
    messageId: 'segclient-bob-identify-phone',
    anonymousId: 'anon-bob-phone',
    traits: { email: 'BOB.Stone@Northwind-Mail.io', plan: 'pro' },
    timestamp: new Date(now - 1 * hour),
    context: phoneContext,
  }, settled);
  analytics.screen({
    messageId: 'segclient-bob-screen',
    anonymousId: 'anon-bob-phone',
    category: 'Shop',
    name: 'Checkout',
    properties: { step: 2 },
    context: phoneContext,
  }, settled);
  // The company: its "name" must not become Bob's name.
  analytics.group({
    messageId: 'segclient-bob-group',
    userId: 'user-bob',
    groupId: 'northwind',
    traits: { name: 'Northwind Traders', industry: 'Retail', employees: 120 },
  }, settled);
  // A third device, known only by the email in context.traits (as analytics.js sends it).
  analytics.track({
    messageId: 'segclient-bob-subscribed',
    anonymousId: 'anon-bob-laptop',
    event: 'Newsletter Subscribed',
    properties: { list: 'weekly' },
    context: { traits: { email: 'bob.stone@northwind-mail.io' }, locale: 'en-GB' },
  }, settled);

  // Cara: a separate person whose integrations options travel with her events.
  analytics.track({
    messageId: 'segclient-cara-played',
    userId: 'user-cara',
    event: 'Song Played',
    properties: { title: 'Blue in Green', seconds: 337, favourite: true },
    integrations: { Mixpanel: false },
  }, settled);
  analytics.page({
    messageId: 'segclient-cara-page',
    userId: 'user-cara',
    name: 'Library',
    properties: { path: '/library' },
  }, settled);

  await analytics.flush({ timeout: 120 * 1000 });

  // Ann signs up: her anonymous id is aliased to her user id, and she orders.
  analytics.alias({
    messageId: 'segclient-ann-alias',
    userId: 'user-ann',
    previousId: 'anon-ann-7f3a',
  }, settled);
  analytics.track({
    messageId: 'segclient-ann-order',
    userId: 'user-ann',
    event: 'Order Completed',
    properties: {
      order_id: 'o-1001',
      total: 49.9,
      currency: 'EUR',
      products: [{ sku: 'TEA-01', quantity: 2 }, { sku: 'CUP-07', quantity: 1 }],
    },
    context: webContext,
  }, settled);

  // Waits for every call's callback; its timeout only bounds a hub that never answers.
  await analytics.closeAndFlush({ timeout: 120 * 1000 });
}

const expected = 12;
main()
  .catch((e) => fail(`script error: ${e && e.stack ? e.stack : e}`))
  .finally(() => {
    if (delivered.length !== expected) {
      fail(`${delivered.length} of ${expected} calls were reported delivered`);
    }
    console.log(`analytics-node ${analytics.VERSION}: delivered ${delivered.length} of ${expected} events in ${requests} requests`);
    for (const f of failures) console.error(`FAILED: ${f}`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  });
