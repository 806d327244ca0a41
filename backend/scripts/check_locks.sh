#!/usr/bin/env bash
# The locks match pyproject.toml: each is resolved again, with the lock itself as the preference
# (an unchanged pyproject.toml resolves to the same lock), and compared with it. uv's cache answers
# offline; when it cannot, PyPI does, as for `make install`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check() {
  local lock="$1"
  shift
  local args=(pyproject.toml "$@" --python-version 3.11 --generate-hashes -q -o "$work/$lock")
  cp "$lock" "$work/$lock"
  if ! "$PY" -m uv pip compile "${args[@]}" --offline 2>/dev/null; then
    cp "$lock" "$work/$lock"
    "$PY" -m uv pip compile "${args[@]}"
  fi
  # The first lines name the command that wrote the file; the rest must be the same.
  if ! diff -u <(grep -v '^#' "$lock") <(grep -v '^#' "$work/$lock"); then
    echo "backend/$lock does not match backend/pyproject.toml: run make lock" >&2
    return 1
  fi
}

check requirements.lock
check requirements-dev.lock --extra dev
