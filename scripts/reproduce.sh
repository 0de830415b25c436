#!/usr/bin/env bash
# One row of the QZO paper's Tables 1 and 3, end to end, by its id (docs/reproduce.md has every row and what to expect).
#
#   bash scripts/reproduce.sh ROW_ID [qzo options...]   run the row (extra options, e.g. --device cuda, go to qzo)
#   bash scripts/reproduce.sh --print ROW_ID            the qzo command of the row, not run
#   bash scripts/reproduce.sh --list                    every row id
#   bash scripts/reproduce.sh --markdown                the row tables of docs/reproduce.md, made from the rows file
#   bash scripts/reproduce.sh --update-doc              write them into docs/reproduce.md (between its "rows:" markers)
#
# The rows live in scripts/paper-rows.tsv (one per line, tab-separated, the first line names the columns).
# The model and the dataset are Hub ids: qzo resolves them through the Hugging Face cache and downloads what is missing
# (HF_HOME, HF_HUB_CACHE, HF_TOKEN and HF_HUB_OFFLINE as docs/hub.md says); offline, qzo stops with one line naming the
# file the cache lacks. A fine-tuning row whose run folder already has a config.json is resumed (qzo finetune --resume).
#
# Environment: QZO, the qzo command (default: the built src/Qzo.Cli/bin/Release/net10.0/qzo, else qzo on PATH, else
# dotnet run); QZO_RUNS, the folder of run folders (default: runs), one per row id.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rows_file="$root/scripts/paper-rows.tsv"
me="reproduce.sh"

fail() { echo "$me: $*" >&2; exit 2; }

[[ -f "$rows_file" ]] || fail "the rows file $rows_file is missing"
mapfile -t lines < "$rows_file"
IFS=$'\t' read -r -a columns <<< "${lines[0]}"
lines=("${lines[@]:1}")

# ids, in file order
ids() { local line; for line in "${lines[@]}"; do echo "${line%%$'\t'*}"; done; }

# Loads the row with id $1 into the associative array `row` (column name -> value); fails with one line if there is none.
declare -A row
load_row() {
    local line="" candidate
    for candidate in "${lines[@]}"; do
        if [[ ${candidate%%$'\t'*} == "$1" ]]; then line=$candidate; break; fi
    done
    [[ -n "$line" ]] || fail "no row '$1' in scripts/paper-rows.tsv (bash scripts/reproduce.sh --list shows the ${#lines[@]} ids)"
    local -a values
    IFS=$'\t' read -r -a values <<< "$line"
    (( ${#values[@]} == ${#columns[@]} )) || fail "row '$1' has ${#values[@]} fields, the header ${#columns[@]}"
    row=()
    local i
    for i in "${!columns[@]}"; do row[${columns[$i]}]=${values[$i]}; done
}

# The qzo arguments of the loaded row (into the array `args`), with run folder $1; empty for a row Qzo cannot run.
build_args() {
    local run=$1
    args=()
    local revision=()
    [[ ${row[revision]} != main ]] && revision=(--revision "${row[revision]}")
    local data=(--task "${row[task]}" --data "${row[dataset]}" --subset "${row[subset]}" --sampling mezo --data-seed 0)
    case ${row[method]} in
        qzo|mezo)
            local clip=(--clip "${row[clip]}")
            [[ ${row[clip]} == off ]] && clip=(--no-clip)
            local extra=()
            [[ ${row[extra]} != - ]] && read -r -a extra <<< "${row[extra]}"
            args=(finetune "${row[hub_model]}" "${revision[@]}" --method "${row[method]}" "${data[@]}" --lr "${row[lr]}"
                  --eps "${row[eps]}" "${clip[@]}" --steps "${row[steps]}" --batch-size "${row[batch]}" --eval-every 4000
                  --seed 0 "${extra[@]}" --run "$run") ;;
        zero-shot|zero-shot-q)
            args=(eval "${row[hub_model]}" "${revision[@]}" "${data[@]}" --batch-size "${row[batch]}" --run "$run") ;;
        sgd) ;;
        *) fail "row '${row[id]}' has method '${row[method]}', which is none of qzo, mezo, zero-shot, zero-shot-q, sgd" ;;
    esac
}

sgd_line() {
    echo "row ${row[id]} is full fine-tuning with SGD (backpropagation, lr ${row[lr]}, batch ${row[batch]}), which Qzo does not do;" \
         "the paper reports ${row[metric]} ${row[paper]}"
}

# The command a user types: `qzo` and the arguments, shell-quoted.
command_line() {
    local out="qzo" a quoted
    for a in "${args[@]}"; do printf -v quoted '%q' "$a"; out+=" $quoted"; done
    echo "$out"
}

markdown() {
    echo "| row id | table | model | method | task | paper (metric) | Qzo GPU memory | Qzo time (H100) | basis |"
    echo "|---|---|---|---|---|---|---|---|---|"
    while IFS= read -r id; do
        load_row "$id"
        local memory=${row[memory_gib]} time=${row[time]}
        [[ $memory != - ]] && memory="≈ $memory GiB"
        [[ $time == - ]] && time="no Qzo run"
        echo "| \`$id\` | ${row[table]} | ${row[model]} | ${row[method]} | ${row[task]} | ${row[paper]} (${row[metric]}) | $memory |" \
             "$time | ${row[basis]} |"
    done < <(ids)
    echo
    echo "Every command (\`bash scripts/reproduce.sh ROW_ID\` runs it with \`--run \$QZO_RUNS/ROW_ID\`):"
    echo
    echo '```sh'
    while IFS= read -r id; do
        load_row "$id"
        build_args "runs/$id"
        if (( ${#args[@]} == 0 )); then echo "# $id: $(sgd_line)"; else echo "$(command_line)"; fi
    done < <(ids)
    echo '```'
}

# Replaces the lines between docs/reproduce.md's "<!-- rows: made by" and "<!-- rows: end -->" markers (atomically).
update_doc() {
    local doc="$root/docs/reproduce.md" tables
    grep -q '^<!-- rows: made by' "$doc" && grep -q '^<!-- rows: end -->' "$doc" || fail "$doc lacks its rows: markers"
    tables=$(mktemp)
    markdown > "$tables"
    awk -v tables="$tables" '
        /^<!-- rows: end -->/ { while ((getline line < tables) > 0) print line; skip = 0 }
        !skip { print }
        /^<!-- rows: made by/ { skip = 1 }' "$doc" > "$doc.tmp"
    mv "$doc.tmp" "$doc"
    rm -f "$tables"
}

qzo_command() {
    if [[ -n ${QZO:-} ]]; then read -r -a qzo <<< "$QZO"
    elif [[ -x "$root/src/Qzo.Cli/bin/Release/net10.0/qzo" ]]; then qzo=("$root/src/Qzo.Cli/bin/Release/net10.0/qzo")
    elif command -v qzo > /dev/null; then qzo=(qzo)
    else qzo=(dotnet run -c Release --project "$root/src/Qzo.Cli" --)
    fi
}

case ${1:-} in
    ""|-h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --list) ids; exit 0 ;;
    --markdown) markdown; exit 0 ;;
    --update-doc) update_doc; exit 0 ;;
    --print)
        [[ -n ${2:-} ]] || fail "--print takes a row id"
        load_row "$2"
        build_args "runs/$2"
        if (( ${#args[@]} == 0 )); then sgd_line; else command_line; fi
        exit 0 ;;
    -*) fail "unknown option '$1' (--print, --list, --markdown, --update-doc, or a row id)" ;;
esac

id=$1
shift
load_row "$id"
run="${QZO_RUNS:-runs}/$id"
build_args "$run"
(( ${#args[@]} > 0 )) || fail "$(sgd_line)"
if [[ ${args[0]} == finetune && -f "$run/config.json" ]]; then args=(finetune --resume "$run"); fi
qzo_command
echo "+ $(command_line) $*"
exec "${qzo[@]}" "${args[@]}" "$@"
