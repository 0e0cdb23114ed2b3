#!/usr/bin/env bash
# Builds the tripleo-ipsec RPM (noarch) with rpmbuild from packaging/tripleo-ipsec.spec:
# the bundled CLI and agent (npm run build), the heat templates, the README.
# Prints the path of the RPM it wrote under dist/rpm/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild is not installed (Debian: apt-get install rpm)" >&2; exit 1; }
[ -f dist/cli.cjs ] && [ -f agents/ipsec ] || npm run build >/dev/null
version=$(node -p 'require("./package.json").version')
top=$(mktemp -d /var/tmp/tripleo-ipsec-rpm.XXXXXX)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS} "$top/src/tripleo-ipsec-$version"
cp -p --parents package.json packaging/tripleo-ipsec-firewall.service packaging/tripleo-ipsec-tidy.service packaging/tripleo-ipsec-tidy.timer README.md docs/*.md docs/reference/*.md bin/tripleo-ipsec dist/cli.cjs agents/ipsec heat-env/ipsec.yaml heat-env/ipsec-service.yaml examples/sample-overcloud/* "$top/src/tripleo-ipsec-$version/"
tar -C "$top/src" -czf "$top/SOURCES/tripleo-ipsec-$version.tar.gz" "tripleo-ipsec-$version"
rpmbuild --quiet -bb --define "_topdir $top" --define "tripleo_ipsec_version $version" packaging/tripleo-ipsec.spec >&2
mkdir -p dist/rpm
rpm=$(find "$top/RPMS" -name '*.rpm' | head -1)
cp "$rpm" dist/rpm/
echo "dist/rpm/$(basename "$rpm")"
