#!/bin/sh
# One-shot, once the Temporal server is up (temporalio/admin-tools image): create Kurator's
# namespace and register its custom search attributes. Idempotent: an existing namespace is
# kept, and the server skips attributes already registered; one registered with another type
# fails this job (and so the start of Kurator) instead of passing unnoticed.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${KURATOR_NAMESPACE:?}" "${KURATOR_SEARCH_ATTRIBUTES:?}"
: "${KURATOR_NAMESPACE_RETENTION:=30d}"

# Runs "$@" every 2 s until it succeeds, for at most 2 minutes.
wait_for() {
    tries=0
    until "$@" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            echo "gave up after 2 minutes waiting for: $*" >&2
            return 1
        fi
        sleep 2
    done
}

# The server's health check only sees its port open: wait until the frontend serves.
wait_for temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --namespace "$KURATOR_NAMESPACE" \
    --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
    echo "namespace $KURATOR_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$KURATOR_NAMESPACE" \
        --retention "$KURATOR_NAMESPACE_RETENTION" --address "$TEMPORAL_ADDRESS"
fi
# A new namespace reaches the server's namespace cache some seconds after its creation.
wait_for temporal operator search-attribute list --namespace "$KURATOR_NAMESPACE" \
    --address "$TEMPORAL_ADDRESS"

# KURATOR_SEARCH_ATTRIBUTES holds Name=Type pairs separated by spaces.
set --
for pair in $KURATOR_SEARCH_ATTRIBUTES; do
    set -- "$@" --name "${pair%%=*}" --type "${pair#*=}"
done
temporal operator search-attribute create --namespace "$KURATOR_NAMESPACE" \
    --address "$TEMPORAL_ADDRESS" "$@"
echo "namespace $KURATOR_NAMESPACE is ready"
