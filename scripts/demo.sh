#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing, builds the hub, its
# first-party plugins and the vendor simulators, then runs the hub end to end on loopback:
#   1. the demo's CRM and POS files are imported and resolved into profiles;
#   2. the simulators of Salesforce, HubSpot and Salesforce Marketing Cloud start (cdphub-sim);
#   3. the Salesforce and HubSpot connectors sync from them into the same store;
#   4. segments are evaluated and the German customers are delivered to SFMC's Data Extension;
#   5. a summary: records in, profiles after unification, segment sizes, what SFMC received.
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
"$sim" --vendor salesforce --vendor hubspot --vendor sfmc --records 400 --seed 7 \
    --urls-file "$demo/sim-urls.json" > "$demo/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$demo/sim-urls.json" ] && break; sleep 0.1; done
url() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$demo/sim-urls.json"; }
sf=$(url salesforce); hs=$(url hubspot); mc=$(url sfmc)
echo "salesforce $sf, hubspot $hs, sfmc $mc"
# The simulators' sandbox credentials, given to the hub as secret references.
export SALESFORCE_CLIENT_SECRET=test-secret HUBSPOT_TOKEN=pat-na1-sim SFMC_CLIENT_SECRET=sim-secret

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
echo "== segments"
"$hub" -m "$m" segment evaluate >/dev/null
"$hub" -m "$m" segment list
echo
echo "== deliver german_customers to SFMC"
"$hub" -m "$m" sync german_customers_sfmc
echo
echo "== summary"
db="$demo/data/cdphub.db"
sqlite3 "$db" "SELECT '  records in: ' || count(*) || ' stored, ' ||
                      (SELECT count(*) FROM rejected_records) || ' rejected' FROM records;"
sqlite3 "$db" "SELECT '    from ' || source || ': ' || count(*) FROM records GROUP BY source;"
sqlite3 "$db" "SELECT '  profiles after unification: ' || count(*) FROM profiles
               WHERE merged_into IS NULL;"
sqlite3 "$db" "SELECT '  merges: ' || count(*) FROM merge_log WHERE undone_by IS NULL;"
curl -s "$mc/_sim/state" > "$demo/sfmc-state.json"
rows=$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$demo/sfmc-state.json'), '\$.rows')")
echo "  SFMC Data Extension CDP_Members now holds $rows rows (GET $mc/_sim/state; saved to $demo/sfmc-state.json)"
echo
echo "Explore: $hub -m $m profile explain <id or type:value>; $hub -m $m activations"
echo "Database: $db (sqlite3 reads it; schema in docs/store.md). Manifests: $m"
