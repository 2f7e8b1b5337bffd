#!/usr/bin/env bash
# Debian packages the project needs beyond Python: a CJK font for the charts (fonts),
# Chromium for the browser tests (browser), and LibreOffice Writer with poppler-utils to render
# report.docx to PDF and PNG for the Word-layout tests (docx). Installs only what is missing.
set -euo pipefail
declare -A wanted=(
  [fonts]="fonts-noto-cjk"
  [browser]="chromium"
  [docx]="libreoffice-writer poppler-utils"
)
missing=()
for group in "$@"; do
  for pkg in ${wanted[$group]}; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
