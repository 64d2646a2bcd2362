#!/usr/bin/env bash
# Re-lock the project and re-export the pinned requirements files.
#
# Poetry's default PyPI source reads PyPI's per-version JSON API, which this
# workplace does not serve. So the lock is resolved against a *temporary*
# primary source that points at PyPI's simple index (read from pip at run time,
# never written into a committed file). Afterwards the source is removed again
# from pyproject.toml and poetry.lock, the lock's content-hash is refreshed with
# Poetry's own code, the lock is checked, and requirements*.txt are exported.
#
# Usage:  scripts/relock.sh [extra `poetry lock` args, e.g. --regenerate]
# Env:    POETRY         poetry command (default: poetry on PATH)
#         POETRY_PYTHON  interpreter that runs Poetry (default: derived from POETRY)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

read -r -a POETRY_CMD <<<"${POETRY:-poetry}"
TMP_SOURCE="relock-tmp-simple-index"
# Flags shared with tests/test_packaging.py -- keep them in sync.
EXPORT_MAIN=(export -f requirements.txt)
EXPORT_DEV=(export -f requirements.txt --only dev)
EXPORT_RAY=(export -f requirements.txt --extras ray)

poetry() { command "${POETRY_CMD[@]}" "$@"; }

die() {
    echo "relock: $*" >&2
    exit 1
}

# --- locate the Python interpreter that runs Poetry --------------------------
find_poetry_python() {
    local candidates=() exe
    if [[ -n "${POETRY_PYTHON:-}" ]]; then
        candidates+=("$POETRY_PYTHON")
    fi
    # POETRY="some/python -m poetry"
    if [[ ${#POETRY_CMD[@]} -ge 3 && "${POETRY_CMD[1]}" == "-m" ]]; then
        candidates+=("${POETRY_CMD[0]}")
    fi
    if exe=$(type -P "${POETRY_CMD[0]}"); then
        # Shebang of the poetry entry-point script (pip/pipx installs) ...
        local shebang
        shebang=$(head -n1 "$exe" 2>/dev/null | tr -d '\0' || true)
        if [[ "$shebang" == '#!'* ]]; then
            shebang=${shebang#\#!}
            candidates+=("${shebang%% *}")
        fi
        # ... or the python sitting next to it.
        candidates+=("$(dirname "$(readlink -f "$exe")")/python")
    fi
    for exe in "${candidates[@]}"; do
        if [[ -x "$exe" ]] && "$exe" -c "import poetry.factory" 2>/dev/null; then
            echo "$exe"
            return 0
        fi
    done
    return 1
}

poetry --version >/dev/null || die "cannot run poetry (${POETRY_CMD[*]})"
POETRY_PY=$(find_poetry_python) || die "cannot find the Python that runs Poetry; set POETRY_PYTHON"

SIMPLE_URL=$("$POETRY_PY" -c "from pip._internal.models.index import PyPI; print(PyPI.simple_url)" 2>/dev/null) ||
    SIMPLE_URL=$(python3 -c "from pip._internal.models.index import PyPI; print(PyPI.simple_url)") ||
    die "cannot read PyPI's simple index URL from pip"

if grep -qE '^\[\[tool\.poetry\.source\]\]' pyproject.toml; then
    die "pyproject.toml already declares a [[tool.poetry.source]]; remove it first"
fi

# --- back up, and always restore on failure ----------------------------------
BACKUP=$(mktemp -d)
cp pyproject.toml "$BACKUP/pyproject.toml"
[[ -f poetry.lock ]] && cp poetry.lock "$BACKUP/poetry.lock"
SUCCESS=0

cleanup() {
    local rc=$?
    if [[ $SUCCESS -ne 1 ]]; then
        echo "relock: failed (exit $rc); restoring pyproject.toml and poetry.lock" >&2
        cp "$BACKUP/pyproject.toml" pyproject.toml
        if [[ -f "$BACKUP/poetry.lock" ]]; then
            cp "$BACKUP/poetry.lock" poetry.lock
        else
            rm -f poetry.lock
        fi
    fi
    rm -rf "$BACKUP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- lock against the temporary source ---------------------------------------
echo "relock: adding temporary source '$TMP_SOURCE'"
poetry source add --priority=primary "$TMP_SOURCE" "$SIMPLE_URL"
echo "relock: poetry lock $*"
poetry lock "$@"
poetry source remove "$TMP_SOURCE"
# `poetry source remove` may leave an empty `source = []` or whitespace behind;
# the committed pyproject.toml must be exactly what it was.
cp "$BACKUP/pyproject.toml" pyproject.toml

# --- strip the source from poetry.lock and refresh its content-hash ----------
"$POETRY_PY" - "$TMP_SOURCE" "$SIMPLE_URL" <<'PY'
import re
import sys
from pathlib import Path

from poetry.factory import Factory

name, url = sys.argv[1], sys.argv[2]
lock = Path("poetry.lock")
text = lock.read_text(encoding="utf-8")

# A [package.source] table: its key = "value" lines, up to the next blank line.
block = re.compile(
    r"\n\[package\.source\]\n"
    r"(?:(?:type|url|reference|subdirectory|resolved_reference) = \"[^\"\n]*\"\n)+"
)
kept = []
removed = 0
for match in block.finditer(text):
    body = match.group(0)
    if f'reference = "{name}"' in body:
        removed += 1
    else:
        kept.append(body)
if kept:
    sys.exit(f"relock: poetry.lock has [package.source] blocks not from {name}; aborting")
text = block.sub("\n", text)
if name in text or url.rstrip("/") in text:
    sys.exit("relock: temporary source still referenced in poetry.lock")

poetry = Factory().create_poetry(Path.cwd())
locker = poetry.locker
content_hash = locker._get_content_hash()
text, n = re.subn(
    r'^content-hash = "[0-9a-f]*"$', f'content-hash = "{content_hash}"', text, flags=re.M
)
if n != 1:
    sys.exit("relock: could not find content-hash in poetry.lock")
lock.write_text(text, encoding="utf-8")
print(f"relock: removed {removed} [package.source] blocks; content-hash {content_hash}")
PY

if grep -qF "$TMP_SOURCE" pyproject.toml poetry.lock || grep -qF "${SIMPLE_URL%/}" pyproject.toml poetry.lock; then
    die "temporary source left behind in pyproject.toml or poetry.lock"
fi

poetry check --lock

# --- export pinned requirements ----------------------------------------------
poetry "${EXPORT_MAIN[@]}" --output requirements.txt
poetry "${EXPORT_DEV[@]}" --output requirements-dev.txt
poetry "${EXPORT_RAY[@]}" --output requirements-ray.txt

SUCCESS=1
echo "relock: done -> poetry.lock requirements.txt requirements-dev.txt requirements-ray.txt"
