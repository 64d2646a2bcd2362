#!/usr/bin/env bash
# Mutation testing of the dataset (userdata/dataset.py, userdata/labels.py), of the
# ROI / MNIST-cut stage (stages/digits.py), of the judge (reading/judge/: its rules, its
# split, its cuts, the long-tailed bodies, whose ink a box holds) and of the refine steps
# (stages/refine.py). Not part of CI: minutes to an hour on an idle machine.
#
# mutmut 3.8.1 comes from PyPI into a throwaway venv (it is not in the lock); a .pth file
# lets that venv import the project's own dependencies from $PYTHON's environment (same
# Python version). Each module is mutated in its own copy of the last commit (git archive HEAD),
# with a setup.cfg written there, so the working tree is never touched. mutmut runs, for
# each mutant, only the tests (of the files below) that reach the mutated function.
#
#   PYTHON=.venv/bin/python scripts/mutation.sh            # all, one after another
#   PYTHON=.venv/bin/python scripts/mutation.sh digits     # one of: dataset labels digits
#                                                          #   rules split cuts bodies box_ink pairs refine
#
# Prints "module: killed / total" per module; then, in $WORK/<module>:
#   $WORK/venv/bin/mutmut results          the survivors
#   $WORK/venv/bin/mutmut show <name>      one survivor's diff
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=${WORK:-$(mktemp -d -t digit-mutation-XXXXXX)}
if [[ $# -gt 0 ]]; then MODULES=("$@"); else
    MODULES=(dataset labels digits rules split cuts bodies box_ink pairs refine)
fi

if [[ ! -x $WORK/venv/bin/mutmut ]]; then
    "$PYTHON" -c 'import sys; print(sys.base_prefix)' >/dev/null
    BASE=$("$PYTHON" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python3"))')
    "$BASE" -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q "mutmut==3.8.1"
    SITE=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    VSITE=$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$SITE" >"$VSITE/project-deps.pth"
fi

config() {
    local module=$1
    case $module in
        dataset | labels)
            # the two-writer/two-thread races (seconds each) and the SIGKILL test (a minute)
            # are left out: they guard the locks, which survive here (see BENCHMARKS.md)
            cat <<EOF
[mutmut]
paths_to_mutate=digit_pipeline/userdata/$module.py
tests_dir=
    tests/test_dataset.py
    tests/test_dataset_format.py
    tests/test_exports.py
pytest_add_cli_args=
    -p
    no:cacheprovider
    -k
    not two_writers and not two_threads
EOF
            ;;
        digits)
            cat <<EOF
[mutmut]
paths_to_mutate=digit_pipeline/stages/digits.py
tests_dir=
    tests/test_stages.py
    tests/test_model.py
pytest_add_cli_args=
    -p
    no:cacheprovider
    -k
    roi or digit or mnist or resize or stroke or thick or centred
EOF
            ;;
        rules | cuts | bodies | box_ink)
            # the thresholds at their boundaries, pure numpy: a mutant runs in a second (the
            # two tests that read the judge's source would read mutmut's rewritten copy)
            cat <<EOF
[mutmut]
paths_to_mutate=digit_pipeline/reading/judge/$module.py
tests_dir=
    tests/test_judge_rules.py
pytest_add_cli_args=
    -p
    no:cacheprovider
    -k
    not bare_threshold and not read_by_the_judge
EOF
            ;;
        split | pairs)
            # they read with the classifier (and pairs with the pair reader): the tests that
            # read with the NumPy reader only (a fork of a process that ran TensorFlow
            # deadlocks in its threads: every mutant "timed out"; training a pair reader runs
            # TensorFlow, the app's table Streamlit's runtime); mutmut's CPU limit leaves out
            # loading the models, hence the larger multiplier
            if [[ $module == split ]]; then
                tests="tests/test_judge_rules.py tests/test_judge.py"
                skip="not bare_threshold and not read_by_the_judge"
            else
                tests="tests/test_pairs.py"
                skip="not train_pairs and not apps_table"
            fi
            cat <<EOF
[mutmut]
paths_to_mutate=digit_pipeline/reading/judge/$module.py
timeout_multiplier=100
tests_dir=
$(printf '    %s\n' $tests)
pytest_add_cli_args=
    -p
    no:cacheprovider
    -k
    $skip
EOF
            ;;
        refine)
            cat <<EOF
[mutmut]
paths_to_mutate=digit_pipeline/stages/refine.py
tests_dir=
    tests/test_refine.py
pytest_add_cli_args=
    -p
    no:cacheprovider
EOF
            ;;
        *)
            echo "unknown module $module (dataset labels digits rules split cuts bodies box_ink pairs refine)" >&2
            exit 2
            ;;
    esac
    cat <<EOF
also_copy=
    digit_pipeline/
    tests/
    models/
    sample_images/
EOF
}

echo "mutmut work folder: $WORK"
for module in "${MODULES[@]}"; do
    copy=$WORK/$module
    rm -rf "$copy" && mkdir -p "$copy"
    (cd "$ROOT" && git archive HEAD) | (cd "$copy" && tar xf -)  # the committed tree
    config "$module" >"$copy/setup.cfg"
    (cd "$copy" && nice "$WORK/venv/bin/mutmut" run --max-children "${JOBS:-1}" >"$WORK/$module.log" 2>&1) || true
    # the last progress line: "⠼ 285/285  🎉 260 🫥 0  ⏰ 0  🤔 0  🙁 25  🔇 0  🧙 0"
    last=$(tr '\r' '\n' <"$WORK/$module.log" | grep -a ' 🎉 ' | tail -1)
    total=$(sed -E 's#.* [0-9]+/([0-9]+) .*#\1#' <<<"$last")
    killed=$(sed -E 's#.*🎉 ([0-9]+) .*#\1#' <<<"$last")
    echo "$module: $killed / $total killed   ($last)"
done
