#!/usr/bin/env bash
# Prints the path of a working Python 3.13 interpreter (the Lambda runtime's version), or fails
# with a message that says how to get one. Used by the Makefile.
set -u
candidates=()
[ -n "${PYTHON313:-}" ] && candidates+=("$PYTHON313")
candidates+=(python3.13)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for d in "$root"/versions/3.13*; do
    [ -x "$d/bin/python3.13" ] && candidates+=("$d/bin/python3.13")
  done
fi
candidates+=(/usr/local/bin/python3.13 /usr/bin/python3.13)
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if "$p" -c 'import sys, venv; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
    "$p" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "error: Python 3.13 not found (the Lambda runtime is python3.13)." >&2
echo "       Install it (for example 'pyenv install 3.13') or set PYTHON313=/path/to/python3.13." >&2
exit 1
