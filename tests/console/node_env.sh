# Sourced by the browser tests (run.sh, scenario.sh) with $here (this
# folder) and $seed (a binary in the build tree) set: checks that Chromium
# and Node.js are there (else exits 77, skipped), and installs
# playwright-core as package-lock.json pins it into the build tree, so the
# source tree stays clean. Sets $chromium and $node_dir.
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "${test_name:-browser test}: skipped: needs $chromium, node and npm (scripts/install-deps.sh installs them)"
  exit 77
fi

# playwright-core, as package-lock.json pins it, in the build tree (the
# source tree stays clean); offline when npm's cache has it.
node_dir="$(cd "$(dirname "$seed")" && pwd)/console_node"
mkdir -p "$node_dir"
# Two browser tests may start together: one installs, the other waits.
exec 9>"$node_dir.lock"
flock 9
for f in package.json package-lock.json browser.mjs e2e.mjs scenario.mjs; do
  cmp -s "$here/$f" "$node_dir/$f" || cp "$here/$f" "$node_dir/$f"
done
if [ ! -f "$node_dir/node_modules/playwright-core/package.json" ] ||
   [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  (cd "$node_dir" && { npm ci --offline --no-audit --no-fund >/dev/null 2>&1 ||
                       npm ci --no-audit --no-fund >/dev/null; }) || {
    echo "${test_name:-browser test}: npm ci failed"; exit 1; }
fi
flock -u 9

