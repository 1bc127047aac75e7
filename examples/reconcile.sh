#!/bin/sh
# A real reconciler for kates, in POSIX sh and jq. Run it as:
#
#   kates watch -q svc -q deploy -q 'summary=cm f=metadata.name=kates-summary' --exec examples/reconcile.sh
#
# It reads the coalesced snapshot on stdin and keeps one ConfigMap, kates-summary, describing the Services and
# Deployments it sees. It writes through kates, so its own write is in the very next snapshot (coherence): the
# next run finds the summary already up to date and writes nothing, and the loop settles.
set -eu

if ! command -v jq >/dev/null 2>&1; then
    echo "reconcile.sh needs jq: apt-get install jq, brew install jq, or see https://jqlang.org/download/" >&2
    exit 127
fi
KATES=${KATES:-kates}
NS=${KATES_NAMESPACE:-default}

snapshot=$(cat)
services=$(printf '%s' "$snapshot" | jq -r '[.svc[].metadata.name] | join(",")')
deployments=$(printf '%s' "$snapshot" | jq -r '[.deploy[] | "\(.metadata.name)=\(.spec.replicas)"] | join(",")')
current=$(printf '%s' "$snapshot" | jq -c '.summary[0].data // null')
desired=$(jq -cn --arg s "$services" --arg d "$deployments" '{deployments: $d, services: $s}')

if [ "$current" = "$desired" ]; then
    echo "reconcile run $KATES_RUN: up to date (services: $services; deployments: $deployments)" >&2
    exit 0
fi
manifest=$(jq -n --arg ns "$NS" --argjson data "$desired" \
    '{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "kates-summary", namespace: $ns}, data: $data}')
if [ "$current" = "null" ]; then
    printf '%s' "$manifest" | $KATES create -f - >&2
else
    printf '%s' "$manifest" | $KATES update -f - --retry-on-conflict >&2
fi
echo "reconcile run $KATES_RUN: wrote the summary (services: $services; deployments: $deployments)" >&2
