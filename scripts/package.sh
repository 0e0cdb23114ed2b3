#!/usr/bin/env bash
# npm run package: the RPM (scripts/build-rpm.sh) and, for systems without
# RPM, a tarball of exactly the RPM's files, to unpack at / (tar -C / -xzf).
# Prints both paths.
set -euo pipefail
cd "$(dirname "$0")/.."
rpm=$(bash scripts/build-rpm.sh)
version=$(node -p 'require("./package.json").version')
stage=$(mktemp -d /var/tmp/tripleo-ipsec-stage.XXXXXX)
trap 'rm -rf "$stage"' EXIT
# The RPM installed into an empty root, then that root's files without rpm's database.
rpm --root "$stage" --initdb
rpm -i --root "$stage" --nodeps --noscripts "$rpm"
tarball="dist/rpm/tripleo-ipsec-$version.tar.gz"
tar -C "$stage" --owner=0 --group=0 -czf "$tarball" usr
echo "$rpm"
echo "$tarball"
