# shellcheck shell=bash disable=SC2034 # globals here are read by the stage scripts
# What the demo's stage scripts (scripts/etape*) share; sourced, not run.
#
# A stage keeps each tool's JSON in its folder of the run folder
# (RUN_DIR/etapeN/), reads earlier stages' facts from there, prints a short
# summary, and stops at the first failing tool with that tool's exit code and
# message. Nothing here needs more than bash, coreutils, grep and sed: JSON
# values are read with sed from the tools' own (well-known) output.
#
# Environment (all optional):
#   RUN_DIR              the run folder (--run-dir wins; default ./run)
#   LAB_STATE            the demo lab's state folder (default /run/nomad-demo-lab):
#                        its inventory-<site>.json is the default inventory
#   TOOLS_DIR            where the tools are (default: target/release of this
#                        repository when built there, else PATH)
#   VM_PROVISION_FLAGS   extra vm-provision flags, split on whitespace
#                        (e.g. "--parallel 4 --connect-timeout 20s")
#   NOMAD_BINARY, CONSUL_BINARY
#                        binaries vm-provision uploads (default on the lab:
#                        nomad/consul when both are on PATH, else agent-double)
#   WAIT                 how long federation checks wait to converge (default 2m)
#   QUIET=1              keep the tools' progress in the run folder's .log
#                        files only (it is always there)

LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_STATE_DEFAULT=/run/nomad-demo-lab
STAGE=${STAGE:-$(basename "$0")}

die() { # message [exit code]
  echo "$STAGE: $1" >&2
  exit "${2:-1}"
}
say() { echo "$STAGE: $*" >&2; }
# The summary goes to stdout: one line per fact.
summary() { echo "$STAGE: $*"; }

# ---------------------------------------------------------------- options
# Every stage takes --run-dir DIR, --inventory FILE (the provisioning stages)
# and --help; usage() prints the stage script's header comment.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

RUN_DIR=${RUN_DIR:-./run}
INVENTORY=
parse_options() { # "$@" of the stage
  while (($#)); do
    case $1 in
      --run-dir) [[ $# -ge 2 && -n $2 ]] || die "--run-dir needs a folder" 2; RUN_DIR=$2; shift 2 ;;
      --run-dir=*) RUN_DIR=${1#*=}; shift ;;
      --inventory) [[ $# -ge 2 && -n $2 ]] || die "--inventory needs a file" 2; INVENTORY=$2; shift 2 ;;
      --inventory=*) INVENTORY=${1#*=}; shift ;;
      -h | --help) usage 0 ;;
      *) echo "$STAGE: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
  done
}

lab_state() { echo "${LAB_STATE:-$LAB_STATE_DEFAULT}"; }

# The inventory of a site: --inventory, else the lab's inventory-SITE.json.
# Sets INVENTORY and ON_LAB (1 when it is the lab's).
ON_LAB=
resolve_inventory() { # site
  local site=$1 lab_inv
  lab_inv=$(lab_state)/inventory-$site.json
  if [[ -z $INVENTORY ]]; then
    [[ -f $lab_inv ]] ||
      die "no inventory: give --inventory FILE, or bring the demo lab up (sudo scripts/demo does; $lab_inv is missing)" 2
    INVENTORY=$lab_inv
  fi
  [[ -r $INVENTORY ]] || die "cannot read the inventory $INVENTORY" 2
  if [[ $(realpath -m "$INVENTORY") == "$(realpath -m "$lab_inv")" ]]; then
    ON_LAB=1
  fi
}

# ---------------------------------------------------------------- tools
tool() { # name -> path of the tool
  local name=$1
  if [[ -n ${TOOLS_DIR:-} ]]; then
    [[ -x $TOOLS_DIR/$name ]] || die "$name not found in TOOLS_DIR=$TOOLS_DIR" 2
    echo "$TOOLS_DIR/$name"
  elif [[ -x $LIB_ROOT/target/release/$name ]]; then
    echo "$LIB_ROOT/target/release/$name"
  elif command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
  else
    die "$name not found: build the tools first (cargo build --release), or set TOOLS_DIR" 2
  fi
}

# The agents vm-provision uploads when provisioning the lab: real nomad and
# consul when both are on PATH, else the API double playing both. Sets
# NOMAD_BINARY and CONSUL_BINARY (unless already set) and AGENTS (a word).
AGENTS=
choose_agents() {
  if [[ -n ${NOMAD_BINARY:-} || -n ${CONSUL_BINARY:-} ]]; then
    [[ -n ${NOMAD_BINARY:-} && -n ${CONSUL_BINARY:-} ]] ||
      die "set both NOMAD_BINARY and CONSUL_BINARY, or neither" 2
    AGENTS="given ($NOMAD_BINARY, $CONSUL_BINARY)"
  elif command -v nomad >/dev/null 2>&1 && command -v consul >/dev/null 2>&1; then
    NOMAD_BINARY=$(command -v nomad)
    CONSUL_BINARY=$(command -v consul)
    AGENTS="real nomad and consul ($NOMAD_BINARY, $CONSUL_BINARY)"
  else
    local double
    double=$(tool agent-double)
    NOMAD_BINARY=$double
    CONSUL_BINARY=$double
    AGENTS="the API double (agent-double) as nomad and consul: no real nomad and consul on PATH"
  fi
  export NOMAD_BINARY CONSUL_BINARY
}

# The flags vm-provision gets: the uploaded binaries, --no-docker on the lab
# (its hosts have no internet), then VM_PROVISION_FLAGS.
VM_FLAGS=()
vm_provision_flags() {
  VM_FLAGS=()
  if [[ -n $ON_LAB ]]; then
    choose_agents
    VM_FLAGS+=(--no-docker)
  fi
  if [[ -n ${NOMAD_BINARY:-} ]]; then VM_FLAGS+=(--nomad-binary "$NOMAD_BINARY"); fi
  if [[ -n ${CONSUL_BINARY:-} ]]; then VM_FLAGS+=(--consul-binary "$CONSUL_BINARY"); fi
  local extra=()
  read -r -a extra <<<"${VM_PROVISION_FLAGS:-}"
  VM_FLAGS+=(${extra[@]+"${extra[@]}"})
}

# run_tool DIR NAME STDIN TOOL [ARGS...]: runs TOOL with STDIN (a file, or
# /dev/null), its JSON into DIR/NAME.json, its stderr into DIR/NAME.log (and
# on our stderr unless QUIET=1). The JSON is kept even when the tool fails (it
# says what was found). On failure: the tool's message and its exit code.
# TOOL_OK="0 1" accepts other exit codes (then RC holds the code).
RC=0
run_tool() {
  local dir=$1 name=$2 input=$3 cmd=$4 msg ok
  shift 4
  local out=$dir/$name.json log=$dir/$name.log bin
  bin=$(tool "$cmd")
  mkdir -p "$dir"
  say "$cmd $*"
  RC=0
  if [[ ${QUIET:-} == 1 ]]; then
    "$bin" "$@" <"$input" >"$out.tmp" 2>"$log" || RC=$?
  else
    # stderr through the pipe, stdout to the file; the pipeline waits for all
    set +e
    "$bin" "$@" <"$input" 2>&1 >"$out.tmp" | tee "$log" | sed -u 's/^/    /' >&2
    RC=${PIPESTATUS[0]}
    set -e
  fi
  if [[ -s $out.tmp ]]; then
    mv "$out.tmp" "$out"
  else
    rm -f "$out.tmp" "$out"
  fi
  for ok in ${TOOL_OK:-0}; do
    ((RC == ok)) && return 0
  done
  msg=$(grep "^$cmd: " "$log" | tail -n 1 || true)
  [[ -n $msg ]] || msg=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 || true)
  [[ -n $msg ]] || msg="$cmd: (no message)"
  echo "$STAGE: FAILED: $cmd exited $RC: ${msg#"$cmd: "}" >&2
  if [[ $cmd == vm-provision && -s $out ]]; then
    # each failed host's error, from the facts
    sed -n 's/^ *"error": *"\(.*\)",\{0,1\}$/\1/p' "$out" | head -n 10 | sed "s/^/$STAGE:   /" >&2
  fi
  echo "$STAGE: what was done so far is in $RUN_DIR (this tool: $out, $log)" >&2
  exit "$RC"
}

# ---------------------------------------------------------------- JSON
# The first string value of KEY in FILE ("" when absent).
json_str() { # file key
  sed -n "s/.*\"$2\": *\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}
# How many times KEY has the string VALUE in FILE.
json_count() { # file key value
  local n
  n=$(grep -o "\"$2\": *\"$3\"" "$1" | wc -l) || true
  echo "${n:-0}"
}
# The first boolean of KEY in FILE.
json_bool() { # file key
  sed -n "s/.*\"$2\": *\\(true\\|false\\).*/\\1/p" "$1" | head -n 1
}

# Facts of an earlier stage: the file, or a clear error.
need_facts() { # stage-dir-name stage-script
  local f=$RUN_DIR/$1/facts.json
  [[ -s $f ]] || die "no $f: run scripts/$2 first (same --run-dir)" 2
  echo "$f"
}

# A site's facts, checked: every host provisioned, the API addresses known.
check_facts() { # facts-file
  local f=$1
  [[ -n $(json_str "$f" nomad_addr) && -n $(json_str "$f" consul_http_addr) ]] ||
    die "$f: no nomad_addr or consul_http_addr in the cluster facts" 3
}

# One line about a provisioning run: hosts, servers, clients, results.
provision_summary() { # facts-file
  local f=$1
  summary "$(json_str "$f" region)/$(json_str "$f" datacenter):" \
    "$(json_count "$f" role server) servers, $(json_count "$f" role client) client(s);" \
    "$(json_count "$f" result changed) changed, $(json_count "$f" result unchanged) unchanged;" \
    "Nomad $(json_str "$f" nomad_addr), Consul $(json_str "$f" consul_http_addr)"
}

# The job stages: plan first; submit only when the plan shows changes, so a
# re-run changes nothing (no new job version). Sets SUBMITTED=1 when it did.
SUBMITTED=
submit_job() { # dir nomad-addr job-file [job-submit args...]
  local dir=$1 addr=$2 job=$3
  shift 3
  SUBMITTED=
  [[ -r $job ]] || die "cannot read the job file $job" 2
  TOOL_OK="0 1" run_tool "$dir" plan /dev/null job-submit --plan --pretty --address "$addr" "$job" "$@"
  case $RC/$(json_str "$dir/plan.json" status) in
    0/no_changes) return 0 ;;
    1/changes) ;;
    *) die "FAILED: job-submit --plan exited $RC with status '$(json_str "$dir/plan.json" status)'" "$RC" ;;
  esac
  run_tool "$dir" submit /dev/null job-submit --pretty --address "$addr" "$job" "$@"
  SUBMITTED=1
}

# The job's groups in one line from job-submit's (pretty) JSON:
# "webs 2/2 healthy, database 1/1 healthy".
groups_summary() { # job-submit json
  local line group="" desired=0 out=""
  while IFS= read -r line; do
    if [[ $line =~ ^\ {4}\"([^\"]+)\":\ \{ ]]; then
      group=${BASH_REMATCH[1]}
    elif [[ $line =~ \"desired\":\ ([0-9]+) ]]; then
      desired=${BASH_REMATCH[1]}
    elif [[ -n $group && $line =~ \"healthy\":\ ([0-9]+) ]]; then
      out+="${out:+, }$group ${BASH_REMATCH[1]}/$desired healthy"
      group=""
    fi
  done < <(sed -n '/^  "task_groups": {/,/^  }/p' "$1")
  echo "${out:-no groups}"
}
