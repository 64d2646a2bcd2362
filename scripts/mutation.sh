#!/usr/bin/env bash
# Mutation testing of the dataset (userdata/dataset.py, userdata/labels.py) and of the
# ROI / MNIST-cut stage (stages/digits.py). Not part of CI: it takes tens of minutes.
#
# mutmut 2.5.1 comes from PyPI into a throwaway venv (it is not in the lock). Each module is
# mutated in its own copy of the checkout's tracked files, so the working tree is never
# touched, and the copies run side by side. The tests run with the project's interpreter
# ($PYTHON, default .venv/bin/python), only the fast test files that guard each module,
# stopping at the first failure (-x).
#
#   scripts/mutation.sh                 # all three modules
#   scripts/mutation.sh digits          # one of: dataset labels digits
#
# Prints "module: killed / total (score)" per module; survivors are listed with
# `cd $WORK/<module> && $WORK/venv/bin/mutmut results` (and `mutmut show <id>`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=${WORK:-$(mktemp -d -t digit-mutation-XXXXXX)}
MODULES=("${@:-dataset labels digits}")
read -r -a MODULES <<<"${MODULES[*]}"

if [[ ! -x $WORK/venv/bin/mutmut ]]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q "mutmut==2.5.1"
fi

# pytest options shared by every runner: quiet, first failure ends the run, no cache files.
PYTEST="$PYTHON -m pytest -x -q -p no:cacheprovider"
# the two-writer/two-thread races (slow) and the SIGKILL test (a minute) are left out
DATASET_TESTS="tests/test_dataset.py tests/test_dataset_format.py tests/test_exports.py --doctest-modules digit_pipeline/userdata -k 'not two_writers and not two_threads'"

paths_of() {
    case $1 in
        dataset) echo digit_pipeline/userdata/dataset.py ;;
        labels) echo digit_pipeline/userdata/labels.py ;;
        digits) echo digit_pipeline/stages/digits.py ;;
    esac
}

runner_of() {
    case $1 in
        dataset | labels) echo "$PYTEST $DATASET_TESTS" ;;
        digits) echo "$PYTEST tests/test_stages.py tests/test_model.py -k 'roi or digit or mnist or resize or stroke or thick or centred'" ;;
    esac
}

run_module() {
    local module=$1 copy=$WORK/$1
    rm -rf "$copy" && mkdir -p "$copy"
    (cd "$ROOT" && git ls-files -z | xargs -0 tar cf -) | (cd "$copy" && tar xf -)
    cd "$copy"
    nice "$WORK/venv/bin/mutmut" run --paths-to-mutate "$(paths_of "$module")" \
        --runner "$(runner_of "$module")" --tests-dir tests --no-progress >"$WORK/$module.log" 2>&1 || true
    "$WORK/venv/bin/mutmut" junitxml >"$WORK/$module.xml"
    "$WORK/venv/bin/python" - "$module" "$WORK/$module.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
module, path = sys.argv[1], sys.argv[2]
suite = ET.parse(path).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
total, survived = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
skipped = int(suite.get("skipped") or 0)
total -= skipped
print(f"{module}: {total - survived} / {total} killed ({(total - survived) / max(total, 1):.0%})")
PY
}

echo "mutmut work folder: $WORK"
for module in "${MODULES[@]}"; do
    run_module "$module" &
done
wait
