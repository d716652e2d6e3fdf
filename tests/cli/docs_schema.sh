#!/bin/sh
# docs_schema.sh - the tables and columns that docs/results.md and README.md
# list for the results database are those of a database moesim creates, and
# the schema version they name is its meta.schema_version. Run from the
# repository root with $MOESIM.
set -eu
: "${MOESIM:?set MOESIM to the moesim binary}"
. tests/cli/lib.inc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$MOESIM" run scenarios/alltoall.ini --db "$T/s.db" --quiet --set transport.path=ecmp
# "table col,col,..." per table of the real database, sorted
sqlite3 "$T/s.db" "SELECT name, (SELECT group_concat(name, ',') FROM
        (SELECT name FROM pragma_table_info(m.name) ORDER BY cid))
    FROM sqlite_master m WHERE type = 'table' ORDER BY name" | tr '|' ' ' >"$T/want"
version=$(sqlite3 "$T/s.db" "SELECT value FROM meta WHERE key = 'schema_version'")
# schema_of FILE HEADING: the fenced block after the line HEADING; entries
# "name (col desc, col desc, ...)" whose continuation lines are indented;
# each column is the first word of its item
schema_of() {
    awk -v h="$2" '$0 == h { seek = 1; next }
        seek && /^```/ { if (on) exit; on = 1; next }
        on' "$1" |
        awk '/^[a-z_]+ +\(/ { if (e != "") print e; e = $0; next } { e = e " " $0 }
             END { if (e != "") print e }' |
        sed 's/^\([a-z_]*\) *(\([^)]*\)).*/\1 \2/' |
        awk '{ name = $1; sub(/^[a-z_]+ /, ""); n = split($0, it, ","); out = ""
               for (i = 1; i <= n; i++) { sub(/^ +/, "", it[i]); split(it[i], w, " ")
                   out = out (i > 1 ? "," : "") w[1] }
               print name, out }' | sort
}
schema_of docs/results.md "## The database" >"$T/docs"
schema_of README.md "### Results database" >"$T/readme"
for f in docs readme; do
    diff "$T/want" "$T/$f" >"$T/diff" ||
        fail "$f lists other tables or columns than moesim creates (< real, > $f): $(grep '^[<>]' "$T/diff" | tr '\n' ' ')"
done
grep -q "^Schema version $version (\`meta.schema_version\`)" docs/results.md ||
    fail "docs/results.md does not say schema version $version"
grep -q "schema_version ($version;" README.md || fail "README.md does not say schema version $version"
echo "docs_schema: $(wc -l <"$T/want") tables, schema version $version, as documented"
