# Shared start of the device check scripts (sourced): takes OUT_DIR from the script's first
# argument, sends all output to OUT_DIR/<log name> as well, cds to the repository root and defines
# the step banner and the list of failed steps that the script's summary reports.
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/check-log.sh" LOG_NAME "$@"
OUT="${2:?usage: $(basename "$0") OUT_DIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/$1"
: > "$LOG"
exec > >(tee -a "$LOG") 2>&1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-$(nproc)}"
FAILED=()
step() { echo; echo "=== $* ($(date +%T))"; }
record_fail() { FAILED+=("$1"); echo "FAILED: $1"; }
