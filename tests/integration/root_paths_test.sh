#!/usr/bin/env bash
# Root acts only where the roles' user cannot steer it. Run as root with
# --user nobody, the attacks of a compromised role (or of that user) are
# performed for real, as nobody:
#   - settings.json (nobody's file) is edited so the webroot is a nobody
#     directory whose .well-known/acme-challenge is a symlink to root's
#     accounts/ directory: renew refuses, since the settings differ from
#     root's own record, and nothing of root's changes owner;
#   - without a record, settings.json that nobody could have written is
#     refused too;
#   - a symlink is planted at the challenge path of the real webroot (one
#     that nobody owns): renew refuses to follow it;
#   - a FIFO at pending/order.json does not stall root's renew.
# nobody cannot replace the account key at any point, and the live
# certificate stays as it was after every refused run. A settings change by
# root (`issue --force` with another webroot) is accepted and recorded.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_test_init

if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null; then
  echo "ok - skipped: needs root and a user 'nobody'"
  lab_finish
  exit
fi

chmod 0755 "$TEST_TMP"
lab_start_or_die "$TEST_TMP/lab"
chmod 0755 "$LAB_DIR/tls"
chmod 0644 "$LAB_CA"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

nogroup="$(id -gn nobody)"
as_nobody() { setpriv --reuid nobody --regid "$nogroup" --clear-groups -- "$@"; }
json_get() {  # json_get FILE PYTHON-EXPR (over j)
  python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print($2)" "$1"
}
# A directory of nobody's own, for what it prepares.
mkdir -m 0755 "$TEST_TMP/nobody"
chown nobody:"$nogroup" "$TEST_TMP/nobody"
state="$LAB_DIR/state"
name=paths.example.test
D="$(cert_dir "$name")"
record="$state/root-settings/$name.json"

run_bh "$TEST_TMP/reg" account register --email admin@example.org --agree-tos
check_eq "account register exits 0" 0 "$RC"
key="$(ls "$state"/accounts/*/default/account.key)"
ca_dir="$(dirname "$(dirname "$key")")"
accounts="$state/accounts"

# --- root's own runs keep an existing record current ------------------------
# Without --user (no 'bulkhead' user here) the roles run as root and need no
# record; the first renew adopts root's settings.json as the record, and a
# later change made that way must update it, or the next renew would refuse.
name2=rootonly.example.test
record2="$state/root-settings/$name2.json"
# The new webroot path goes through root's own symlink to the same webroot.
mkdir -m 0755 "$TEST_TMP/sites2"
ln -s "$LAB_WEBROOT" "$TEST_TMP/sites2/site"
run_bh "$TEST_TMP/ro1" issue -d "$name2" --webroot "$LAB_WEBROOT"
check_eq "issue as root, roles as root: exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/ro1.err"
run_bh "$TEST_TMP/ro2" renew --force --name "$name2"
check_eq "renew as root adopts root's own settings.json" 0 "$RC"
check "... as the record" test -f "$record2"
run_bh "$TEST_TMP/ro3" issue --force -d "$name2" --webroot "$TEST_TMP/sites2/site"
check_eq "issue --force as root with another webroot: exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/ro3.err"
check "... and the record follows the change" grep -qF "$TEST_TMP/sites2/site" "$record2"
run_bh "$TEST_TMP/ro4" renew --force --name "$name2"
check_eq "the next renew as root accepts it" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/ro4.err"

run_bh "$TEST_TMP/issue" --user nobody issue -d "$name" --webroot "$LAB_WEBROOT"
check_eq "issue --user nobody exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/issue.err"
check_eq "settings.json is written by the roles' user" nobody "$(stat -c %U "$D/settings.json")"
check_eq "root keeps its own record, 0600" "root 600" "$(stat -c '%U %a' "$record")"
check_eq "... in a directory only root may write" "root 700" "$(stat -c '%U %a' "$state/root-settings")"

# --- a settings change by root is accepted ------------------------------------
# The new webroot path goes through root's own symlink (in a root-only
# directory), which root follows; the record keeps the path as given.
mkdir -m 0755 "$TEST_TMP/sites"
ln -s "$LAB_WEBROOT" "$TEST_TMP/sites/site"
run_bh "$TEST_TMP/reissue" --user nobody issue --force -d "$name" --webroot "$TEST_TMP/sites/site"
check_eq "issue --force as root with another webroot exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/reissue.err"
check_eq "... and records it" "$TEST_TMP/sites/site" \
  "$(json_get "$record" "j['challenge']['target']")"
run_bh "$TEST_TMP/renew0" --user nobody renew --force --name "$name"
check_eq "renew with the recorded settings exits 0" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/renew0.err"

live_before="$(live_version "$name")"
chain_before="$(sha256sum <"$D/live/fullchain.pem")"
owners() { stat -c '%U:%G %a' "$accounts" "$ca_dir" "$key"; }
owners_before="$(owners)"
check_eq "accounts/, its CA directory and the key are root's" "root root root" \
  "$(stat -c %U "$accounts" "$ca_dir" "$key" | tr '\n' ' ' | sed 's/ $//')"

# the_same WHAT: nothing of root's changed owner and the live set stayed.
the_same() {
  check_eq "$1: accounts/, accounts/<ca> and account.key keep their owners" \
    "$owners_before" "$(owners)"
  check_eq "$1: the live certificate is unchanged" "$live_before $chain_before" \
    "$(live_version "$name") $(sha256sum <"$D/live/fullchain.pem")"
  as_nobody sh -c "echo forged >'$TEST_TMP/nobody/forged'"
  check_fails "$1: nobody cannot replace account.key (mv)" \
    as_nobody mv -f "$TEST_TMP/nobody/forged" "$key" 2>/dev/null
  check_eq "$1: account.key is still root's own" "root 400" "$(stat -c '%U %a' "$key")"
}

# --- attack 1: nobody points the webroot at its own trap ----------------------
mkdir -m 0755 "$TEST_TMP/evil"
chown nobody:"$nogroup" "$TEST_TMP/evil"
as_nobody mkdir "$TEST_TMP/evil/.well-known"
as_nobody ln -s "$accounts" "$TEST_TMP/evil/.well-known/acme-challenge"
cp "$D/settings.json" "$TEST_TMP/settings.saved"
# The system's python3: a per-user one (pyenv) may be out of nobody's reach.
as_nobody /usr/bin/python3 -c 'import json, sys
p = sys.argv[1]
s = json.load(open(p))
s["challenge"]["target"] = sys.argv[2]
open(p, "w").write(json.dumps(s))' "$D/settings.json" "$TEST_TMP/evil"
check "nobody could edit settings.json" grep -q "$TEST_TMP/evil" "$D/settings.json"
run_bh "$TEST_TMP/attack1" --user nobody renew --force --name "$name"
check_eq "renew with nobody's settings fails" 1 "$RC"
check "... saying they differ from root's record and what differs" \
  grep -q "settings.json differs from root's record.*" "$TEST_TMP/attack1.err"
check "... naming the field and both values" \
  grep -q "challenge.target: \"$TEST_TMP/evil\" in settings.json, \"$TEST_TMP/sites/site\" in root's record" \
  "$TEST_TMP/attack1.err"
check "... and how to accept a change" grep -q "issue --force" "$TEST_TMP/attack1.err"
[ "$RC" -eq 1 ] || cat "$TEST_TMP/attack1.err"
the_same "settings attack"
# Also through revoke, which rewrites the settings.
run_bh "$TEST_TMP/attack1r" --user nobody revoke --name "$name" --reason superseded
check_eq "revoke with nobody's settings fails" 1 "$RC"
check "... for the same reason" grep -q "differs from root's record" "$TEST_TMP/attack1r.err"
check_eq "... and the record still names root's webroot" "$TEST_TMP/sites/site" \
  "$(json_get "$record" "j['challenge']['target']")"
cat "$TEST_TMP/settings.saved" >"$D/settings.json"

# --- attack 2: no record, settings.json nobody could have written ------------
mv "$record" "$TEST_TMP/record.saved"
run_bh "$TEST_TMP/attack2" --user nobody renew --force --name "$name"
check_eq "renew without root's record of nobody's settings fails" 1 "$RC"
check "... saying root has no record and how to make one" \
  grep -q "root has no record of these settings.*issue --force" "$TEST_TMP/attack2.err"
the_same "no record"
mv "$TEST_TMP/record.saved" "$record"

# --- attack 3: a symlink planted at the real webroot's challenge path --------
# A webroot the roles' user owns (as a deploy user might): it can swap
# .well-known for its own directory holding a symlink.
chown nobody:"$nogroup" "$LAB_WEBROOT"
as_nobody mv "$LAB_WEBROOT/.well-known" "$LAB_WEBROOT/.wk-real"
as_nobody mkdir "$LAB_WEBROOT/.well-known"
as_nobody ln -s "$ca_dir" "$LAB_WEBROOT/.well-known/acme-challenge"
run_bh "$TEST_TMP/attack3" --user nobody renew --force --name "$name"
check_eq "renew with a planted acme-challenge symlink fails" 1 "$RC"
check "... naming the symlink and that nobody placed it" \
  grep -q "$LAB_WEBROOT/.well-known/acme-challenge is a symlink owned by nobody" \
  "$TEST_TMP/attack3.err"
[ "$RC" -eq 1 ] || cat "$TEST_TMP/attack3.err"
the_same "planted acme-challenge symlink"
# One level up: .well-known itself a symlink to accounts/.
as_nobody rm -rf "$LAB_WEBROOT/.well-known"
as_nobody ln -s "$accounts" "$LAB_WEBROOT/.well-known"
run_bh "$TEST_TMP/attack3b" --user nobody renew --force --name "$name"
check_eq "renew with a planted .well-known symlink fails" 1 "$RC"
check "... naming it" grep -q "$LAB_WEBROOT/.well-known is a symlink owned by nobody" \
  "$TEST_TMP/attack3b.err"
check_fails "... and nothing was created behind it" test -e "$accounts/acme-challenge"
the_same "planted .well-known symlink"
as_nobody rm -f "$LAB_WEBROOT/.well-known"
as_nobody mv "$LAB_WEBROOT/.wk-real" "$LAB_WEBROOT/.well-known"
chown root:root "$LAB_WEBROOT"

# --- a FIFO where root reads what the store role wrote -------------------------
as_nobody mkdir -p "$D/pending"
as_nobody mkfifo "$D/pending/order.json"
RC=0
timeout 300 "$BULKHEAD_BIN" --state-dir "$state" --server "$LAB_URL" --ca-bundle "$LAB_CA" \
  --user nobody renew --force --name "$name" >"$TEST_TMP/fifo.out" 2>"$TEST_TMP/fifo.err" || RC=$?
check_eq "a FIFO at pending/order.json does not stall renew (exits 0)" 0 "$RC"
[ "$RC" -eq 0 ] || cat "$TEST_TMP/fifo.err"
check "... it is reported, not resumed" grep -q "not resuming the recorded order" "$TEST_TMP/fifo.err"
check_eq "... and a new version is live" "$((live_before + 1))" "$(live_version "$name")"
check_eq "after all this, accounts/ and the key keep their owners" "$owners_before" "$(owners)"

lab_finish
