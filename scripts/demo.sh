#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing, builds the hub, its
# first-party plugins and the vendor simulators, then runs the hub end to end on loopback:
#   1. the demo's CRM and POS files are imported and resolved into profiles;
#   2. the simulators of Salesforce, HubSpot and Salesforce Marketing Cloud start (cdphub-sim);
#   3. the Salesforce and HubSpot connectors sync from them into the same store;
#   4. `cdphub run` serves the ingest and admin APIs; a web shop's tracking events arrive through
#      the Segment-compatible /v1/batch, and the admin API shows the result;
#   5. segments are evaluated and the German customers are delivered to SFMC's Data Extension,
#      a Mailchimp audience tag and a SendGrid list;
#   6. a summary: records in, profiles after unification, segment sizes, what each destination
#      received.
# The database and the manifests stay in var/demo for exploring with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh default cdphub cdphub_plugins cdphub-sim

hub="$PWD/build/default/bin/cdphub"
sim="$PWD/build/default/bin/cdphub-sim"
demo="$PWD/var/demo"
rm -rf "$demo"
mkdir -p "$demo"
# A free loopback port for the hub's HTTP server.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp -r manifests "$demo/manifests"
m="$demo/manifests"
# The demo's own data folder, so a rerun starts from an empty store.
cat > "$m/hub.json" <<JSON
{"\$schema": "schema/hub.schema.json", "data_dir": "../data", "log": {"level": "warn", "format": "text"}}
JSON
# The file connectors read the repository's demo files.
sed -i "s#\"../examples/demo/data/#\"$PWD/examples/demo/data/#" "$m"/connectors/*.json

echo
echo "== $($hub --version)"
echo
echo "== starting the vendor simulators (cdphub-sim, loopback)"
"$sim" --vendor salesforce --vendor hubspot --vendor sfmc --vendor mailchimp --vendor sendgrid --vendor meta \
    --records 400 --seed 7 \
    --urls-file "$demo/sim-urls.json" > "$demo/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/sim-urls.json" ] && break; sleep 0.1; done
url() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$demo/sim-urls.json"; }
sf=$(url salesforce); hs=$(url hubspot); mc=$(url sfmc); chimp=$(url mailchimp); sg=$(url sendgrid); meta=$(url meta)
echo "salesforce $sf, hubspot $hs, sfmc $mc, mailchimp $chimp, sendgrid $sg, meta $meta"
# The simulators' sandbox credentials, given to the hub as secret references.
export SALESFORCE_CLIENT_SECRET=test-secret HUBSPOT_TOKEN=pat-na1-sim SFMC_CLIENT_SECRET=sim-secret
export MAILCHIMP_API_KEY=0123456789abcdef0123456789abcdef-us21 SENDGRID_API_KEY=SG.sim-key
export META_SYSTEM_USER_TOKEN=sim-meta-token
export CDPHUB_WEB_WRITE_KEY=demo-web-write-key CDPHUB_ADMIN_TOKEN=demo-admin-token-0123456789

cat > "$m/connectors/salesforce-crm.json" <<JSON
{"id": "salesforce-crm", "plugin": "salesforce", "description": "Sales Cloud (simulated)",
 "config": {"login_url": "$sf", "client_id": "cdphub-test-client", "batch_size": 200,
            "objects": ["Contact", "Lead"]},
 "secrets": {"client_secret": {"env": "SALESFORCE_CLIENT_SECRET"}}}
JSON
cat > "$m/connectors/hubspot-crm.json" <<JSON
{"id": "hubspot-crm", "plugin": "hubspot", "description": "HubSpot CRM (simulated)",
 "config": {"base_url": "$hs", "objects": ["contacts"]},
 "secrets": {"access_token": {"env": "HUBSPOT_TOKEN"}}}
JSON
cat > "$m/connectors/sfmc-de.json" <<JSON
{"id": "sfmc-de", "plugin": "sfmc", "description": "Marketing Cloud (simulated)",
 "config": {"auth_base_url": "$mc", "client_id": "sim-id", "data_extension_key": "CDP_Members",
            "key_column": "ContactKey", "key_field": "contact_key", "membership_column": "InSegment"},
 "secrets": {"client_secret": {"env": "SFMC_CLIENT_SECRET"}}}
JSON
mkdir -p "$m/activations"
cat > "$m/activations/german_customers_sfmc.json" <<JSON
{"name": "german_customers_sfmc", "segment": "german_customers", "destination": "sfmc-de",
 "mapping": {"contact_key": "identifiers.email", "Email": "identifiers.email",
             "FirstName": "traits.first_name"}}
JSON

cat > "$m/connectors/mailchimp-newsletter.json" <<JSON
{"id": "mailchimp-newsletter", "plugin": "mailchimp", "description": "Newsletter audience (simulated)",
 "config": {"base_url": "$chimp", "list_id": "a1b2c3d4e5", "email_field": "email",
            "merge_fields": {"FNAME": "first_name"}, "tag": "german_customers"},
 "secrets": {"api_key": {"env": "MAILCHIMP_API_KEY"}}}
JSON
cat > "$m/activations/german_customers_mailchimp.json" <<JSON
{"name": "german_customers_mailchimp", "segment": "german_customers",
 "destination": "mailchimp-newsletter",
 "mapping": {"email": "identifiers.email", "first_name": "traits.first_name"}}
JSON
cat > "$m/connectors/sendgrid-contacts.json" <<JSON
{"id": "sendgrid-contacts", "plugin": "sendgrid", "description": "Marketing Contacts (simulated)",
 "config": {"base_url": "$sg", "list_ids": ["list-vip"], "email_field": "email",
            "fields": {"first_name": "first_name"}},
 "secrets": {"api_key": {"env": "SENDGRID_API_KEY"}}}
JSON
cat > "$m/activations/german_customers_sendgrid.json" <<JSON
{"name": "german_customers_sendgrid", "segment": "german_customers",
 "destination": "sendgrid-contacts",
 "mapping": {"email": "identifiers.email", "first_name": "traits.first_name"}}
JSON
cat > "$m/connectors/meta-ads.json" <<JSON
{"id": "meta-ads", "plugin": "meta-audiences", "description": "Custom Audience (simulated)",
 "config": {"base_url": "$meta", "audience_id": "23850000000000001", "schema": ["EMAIL", "PHONE"]},
 "secrets": {"access_token": {"env": "META_SYSTEM_USER_TOKEN"}}}
JSON
cat > "$m/activations/german_customers_meta.json" <<JSON
{"name": "german_customers_meta", "segment": "german_customers", "destination": "meta-ads",
 "mapping": {"email": "identifiers.email", "phone": "identifiers.phone"}}
JSON
mkdir -p "$demo/liveramp-outbox"
cat > "$m/connectors/liveramp-drop.json" <<JSON
{"id": "liveramp-drop", "plugin": "liveramp-files", "description": "LiveRamp SFTP drop folder",
 "config": {"drop_folder": "$demo/liveramp-outbox", "segment_name": "German_Customers",
            "columns": [{"name": "EMAIL_SHA256", "field": "email", "type": "email"},
                        {"name": "PHONE_SHA256", "field": "phone", "type": "phone"}]}}
JSON
cat > "$m/activations/german_customers_liveramp.json" <<JSON
{"name": "german_customers_liveramp", "segment": "german_customers", "destination": "liveramp-drop",
 "mapping": {"email": "identifiers.email", "phone": "identifiers.phone"}}
JSON

echo
echo "== cdphub validate"
"$hub" -m "$m" validate
echo
echo "== import: the demo's CRM and POS files"
"$hub" -m "$m" sync crm-contacts-files
"$hub" -m "$m" sync pos-orders-files
echo
echo "== sync: Salesforce and HubSpot, from their simulators"
"$hub" -m "$m" sync salesforce-crm
"$hub" -m "$m" sync hubspot-crm
echo
echo "== cdphub run: the ingest API and the admin API on 127.0.0.1:$port"
cat > "$m/hub.json" <<JSON
{"\$schema": "schema/hub.schema.json", "data_dir": "../data", "log": {"level": "warn", "format": "text"},
 "ingest_api": {"listen": "127.0.0.1:$port", "sources": {"web": {"write_key": {"env": "CDPHUB_WEB_WRITE_KEY"}}}},
 "admin_api": {"token": {"env": "CDPHUB_ADMIN_TOKEN"}}}
JSON
"$hub" -m "$m" run > "$demo/hub.log" 2>&1 &
hub_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; kill $hub_pid 2>/dev/null || true' EXIT
api="http://127.0.0.1:$port"
admin() { curl -sf -H "Authorization: Bearer $CDPHUB_ADMIN_TOKEN" "$api/admin/v1/$1"; }
for _ in $(seq 100); do curl -sf "$api/readyz" >/dev/null && break; sleep 0.1; done
# A web shop's tracking: what analytics.js or analytics-node send (Segment's HTTP Tracking API).
# A visitor browses anonymously (a profile of its own), then logs in: the identify links the
# browser's anonymousId to the CRM customer's email, and the two profiles merge (merge log).
curl -sf -u "$CDPHUB_WEB_WRITE_KEY:" -H 'Content-Type: application/json' "$api/v1/batch" -d '{
  "batch": [
    {"type": "page", "messageId": "demo-web-1", "anonymousId": "anon-7f3a", "name": "Pricing",
     "timestamp": "2026-11-02T07:58:00Z"},
    {"type": "track", "messageId": "demo-web-2", "anonymousId": "anon-7f3a", "event": "Product Viewed",
     "properties": {"sku": "TEA-01"}, "timestamp": "2026-11-02T07:59:00Z"},
    {"type": "identify", "messageId": "demo-web-3", "anonymousId": "anon-7f3a", "userId": "web-881",
     "traits": {"email": "Ann.Lee@Example.com", "plan": "plus"}, "timestamp": "2026-11-02T08:00:00Z"},
    {"type": "identify", "messageId": "demo-web-4", "userId": "web-902",
     "traits": {"email": "new.visitor@example.de", "country": "DE", "first_name": "Nina"},
     "timestamp": "2026-11-02T08:02:00Z"}
  ]}' >/dev/null && echo "sent 4 tracking events to $api/v1/batch (write key of source 'web')"
for _ in $(seq 100); do
  curl -sf "$api/metrics" | grep -q '^cdphub_inbox_unprocessed_events 0' && break; sleep 0.1
done
echo "admin API, GET /admin/v1/profiles?identifier=email:ann.lee@example.com:"
admin "profiles?identifier=email%3Aann.lee%40example.com" |
  python3 -c 'import json,sys; p=json.load(sys.stdin); print("  profile", p["id"], "identifiers:", ", ".join(i["type"]+":"+i["value"] for i in p["identifiers"])); print("  traits:", ", ".join(k+"="+str(v["value"])+" (from "+v["source"]+")" for k,v in p["traits"].items())); print("  activity:", p["activity"])'
echo "admin API, GET /admin/v1/status:"
admin status | python3 -c 'import json,sys; s=json.load(sys.stdin); print("  live profiles", s["profiles"]["live"], "| merges", s["profiles"]["merges"], "| records", s["records"], "| rejected", s["rejected_records"])'
kill -TERM $hub_pid; wait $hub_pid || true

echo
echo "== segments"
"$hub" -m "$m" segment evaluate >/dev/null
"$hub" -m "$m" segment list
echo
echo "== deliver german_customers to SFMC, Mailchimp, SendGrid, Meta and a LiveRamp drop folder"
for dest in sfmc mailchimp sendgrid meta liveramp; do
  "$hub" -m "$m" sync "german_customers_$dest"
done
echo
echo "== summary"
db="$demo/data/cdphub.db"
sqlite3 "$db" "SELECT '  records in: ' || count(*) || ' stored, ' ||
                      (SELECT count(*) FROM rejected_records) || ' rejected' FROM records;"
sqlite3 "$db" "SELECT '    from ' || source || ': ' || count(*) FROM records GROUP BY source;"
sqlite3 "$db" "SELECT '  profiles after unification: ' || count(*) FROM profiles
               WHERE merged_into IS NULL;"
sqlite3 "$db" "SELECT '  merges: ' || count(*) FROM merge_log WHERE undone_by IS NULL;"
sqlite3 "$db" "SELECT '    profile ' || absorbed_id || ' into ' || survivor_id || ': record ' ||
                      r.source || '/' || r.record_id || ' had ' || absorbed_identifier_type || ' ' ||
                      absorbed_identifier_value || ' and ' || survivor_identifier_type || ' ' ||
                      survivor_identifier_value
               FROM merge_log m JOIN records r ON r.id = m.record_id
               WHERE undone_by IS NULL ORDER BY m.id LIMIT 5;"
curl -s "$mc/_sim/state" > "$demo/sfmc-state.json"
rows=$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$demo/sfmc-state.json'), '\$.rows')")
echo "  SFMC Data Extension CDP_Members now holds $rows rows (GET $mc/_sim/state; saved to $demo/sfmc-state.json)"
curl -s "$chimp/_sim/state" > "$demo/mailchimp-state.json"
curl -s "$sg/_sim/state" > "$demo/sendgrid-state.json"
curl -s "$meta/_sim/state" > "$demo/meta-state.json"
python3 - "$demo" <<'PY'
import json, sys
d = sys.argv[1]
mc = json.load(open(d + "/mailchimp-state.json"))
tagged = [m for m in mc.get("members", []) if "german_customers" in m.get("tags", [])]
print(f"  Mailchimp audience: {len(tagged)} members tagged german_customers (saved to {d}/mailchimp-state.json)")
sg = json.load(open(d + "/sendgrid-state.json"))
on_list = [c for c in sg.get("contacts", {}).values() if "list-vip" in c.get("list_ids", [])]
print(f"  SendGrid list list-vip: {len(on_list)} contacts (saved to {d}/sendgrid-state.json)")
meta = json.load(open(d + "/meta-state.json"))
print(f"  Meta Custom Audience: {len(meta.get('members', []))} hashed members (saved to {d}/meta-state.json)")
import glob
for f in sorted(glob.glob(d + "/liveramp-outbox/*.csv")):
    rows = sum(1 for _ in open(f)) - 1
    print(f"  LiveRamp drop: {f} with {rows} rows of SHA-256 identifiers")
PY
echo
echo "Explore: $hub -m $m profile explain <id or type:value>; $hub -m $m activations"
echo "Serve:   $hub -m $m run   (ingest API and admin API on $api; docs/admin-api.md)"
echo "Database: $db (sqlite3 reads it; schema in docs/store.md). Manifests: $m"
