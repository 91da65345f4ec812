#!/bin/sh
# scenario-seeds.sh - the scenario fuzz target's seeds mirror the scenarios
# of the tree (scripts/scenario-seeds.sh --check): a scenario added or
# changed without its seed fails here, with the command that rewrites the
# seeds.  Seeds that lag the language leave it unfuzzed (fuzz/README.md).
set -u
: "${TESTS_DIR:?}"
: "${SCENARIO_DIR:?}"
exec sh "$TESTS_DIR/../scripts/scenario-seeds.sh" --check "$SCENARIO_DIR" "$TESTS_DIR/../fuzz/corpus/scenario"
