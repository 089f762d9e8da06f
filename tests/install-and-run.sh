#!/bin/sh
# Install everything the tests need, then run the whole suite (README Quick start, .ci/run).
# As root on Debian it also installs the independent oracles: dcmtk, dicom3tools,
# genisoimage (isoinfo, isovfy), xorriso and libarchive-tools (bsdtar), and Orthanc,
# the real PACS that the import --pacs tests send to.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for pair in dcmdump:dcmtk dciodvfy:dicom3tools isoinfo:genisoimage xorriso:xorriso \
                bsdtar:libarchive-tools Orthanc:orthanc; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
    done
    # headless Chromium renders the IHE PDI pages (INDEX.HTM) in tests/test_pdi.py
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    if [ -n "$missing" ]; then
        echo "installing oracles:$missing" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"
