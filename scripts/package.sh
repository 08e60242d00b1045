#!/usr/bin/env bash
# Builds the deployable Functions app.
#
#   dist/app/       host.json, one folder per function (the host only looks for function
#                   folders at the app root), and the linux/amd64 `handler` binary.
#                   `func start` runs from here.
#   dist/app.zip    the same tree, zipped with the executable bit kept on `handler`, for
#                   `az functionapp deployment source config-zip` (Flex Consumption one-deploy).
#
# dist/app/local.settings.json is created from local.settings.example.json when missing and
# kept across builds; it is never put into the zip.
#
# Usage: scripts/package.sh            (NIMBUS_DIST=DIR builds into DIR instead of dist/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mkdir -p "${NIMBUS_DIST:-dist}"
dist="$(cd "${NIMBUS_DIST:-dist}" && pwd)"
app="$dist/app"
zip_path="$dist/app.zip"

shopt -s nullglob
function_dirs=(functions/*/)
shopt -u nullglob
if [ "${#function_dirs[@]}" -eq 0 ]; then
  echo "package: no functions/<Name>/ folders found" >&2
  exit 1
fi

# Keep a developer's local settings across rebuilds.
saved_settings=""
if [ -f "$app/local.settings.json" ]; then
  saved_settings="$(mktemp)"
  cp "$app/local.settings.json" "$saved_settings"
fi
rm -rf "$app" "$zip_path"
mkdir -p "$app"
if [ -n "$saved_settings" ]; then
  mv "$saved_settings" "$app/local.settings.json"
else
  cp local.settings.example.json "$app/local.settings.json"
fi

cp host.json "$app/host.json"

names=()
for dir in "${function_dirs[@]}"; do
  name="$(basename "$dir")"
  if [ ! -f "$dir/function.json" ]; then
    echo "package: $dir has no function.json" >&2
    exit 1
  fi
  case "$name" in
    handler | host.json | local.settings.json)
      echo "package: function folder name '$name' clashes with a file at the app root" >&2
      exit 1
      ;;
  esac
  cp -R "$dir" "$app/$name"
  names+=("$name")
done

GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -o "$app/handler" ./handler
chmod 0755 "$app/handler"

# Zip from inside the app folder so host.json sits at the zip root.
if command -v zip >/dev/null 2>&1; then
  (cd "$app" && zip -q -r -X "$zip_path" . -x local.settings.json)
else
  python3 - "$app" "$zip_path" <<'PY'
import os
import sys
import zipfile

src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for fname in sorted(filenames):
            full = os.path.join(dirpath, fname)
            arc = os.path.relpath(full, src)
            if arc == "local.settings.json":
                continue
            info = zipfile.ZipInfo.from_file(full, arc)
            # Unix "made by" so unzip on Linux honours the mode kept in external_attr
            # (the top 16 bits); without it the handler loses its executable bit.
            info.create_system = 3
            info.external_attr = (os.stat(full).st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as fh:
                zf.writestr(info, fh.read())
PY
fi

size() { du -h "$1" | cut -f1; }
echo "package: built $app"
echo "  host.json"
for name in "${names[@]}"; do
  echo "  $name/function.json"
done
echo "  handler (linux/amd64, $(size "$app/handler"))"
echo "package: wrote $zip_path ($(size "$zip_path"))"
