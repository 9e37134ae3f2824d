#!/bin/bash
# SPDX-License-Identifier: MIT
# A real Slurm on localhost: munged, slurmctld and slurmd started as this test's own
# processes from a generated slurm.conf in a temporary directory (free ports, private
# state, spool, log and pid files), stopped by their pid files on every exit (trap).
# Submits slurm/agroflux.sbatch with 2 tasks (srun --mpi=pmix) on a synth pipeline and
# verifies the output; submits it again slowed down (test-only AGROFLUX_TEST_BLOCK_DELAY_MS),
# signals the batch script with SIGUSR1 the way --signal=B:USR1@300 does, expects exit
# code 4 with resumable state, resubmits and expects shards byte-identical to the first
# job; runs slurm/agroflux-array.sbatch over two entries with mpirun as the launcher, the
# second entry passing --set through to agroflux plan and run.
# Skips (77) only when the Slurm or munge programs are not installed. Fails fast, with the
# daemon's own reason (its log's error or fatal line), when a daemon exits or logs a fatal
# error (e.g. localhost does not resolve) instead of waiting out the timeout; every scontrol
# call is capped so a daemon that does not answer cannot hang the test either.
set -u
for p in munged mungekey slurmctld slurmd sbatch scontrol scancel; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || { echo "SKIP: $p not installed"; exit 77; }
done
export PATH=$PATH:/usr/sbin
SRC=${AF_SOURCE_ROOT:?}
AGROFLUX=${AGROFLUX:?}
DIR=$(mktemp -d /tmp/af-slurm-XXXXXX)
chmod 755 "$DIR"
fail=0
say() { echo "test_slurm: $*"; }
bad() { echo "FAIL: $*" >&2; fail=1; }

stop_daemons() {
  for f in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
}
cleanup() {
  stop_daemons
  if [ "$fail" != 0 ]; then
    for l in "$DIR"/log/*.log "$DIR"/job*.log; do [ -f "$l" ] && { echo "== $l"; tail -n 30 "$l"; }; done >&2
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

read -r P1 P2 < <(/usr/bin/python3 - <<'PY'
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
PY
)
NCPU=$(nproc)
mkdir -p "$DIR"/{munge,state,spool,log,run}
chmod 755 "$DIR/munge"
cat > "$DIR/slurm.conf" <<CONF
ClusterName=aftest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$P1
SlurmdPort=$P2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
EnforcePartLimits=ALL
ReturnToService=2
KillWait=5
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU Boards=1 SocketsPerBoard=1 CoresPerSocket=$NCPU ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF=$DIR/slurm.conf
mungekey --create --keyfile="$DIR/munge/munge.key" && chmod 600 "$DIR/munge/munge.key"
munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket.2" --pid-file="$DIR/munge/munged.pid" \
  --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" || { bad "munged did not start"; exit 1; }
# Why a daemon is not up, from its pid file and its own log; empty while all is well.
daemon_problem() {
  local name log pidf
  for name in slurmctld slurmd; do
    log=$DIR/log/$name.log
    pidf=$DIR/run/$name.pid
    if grep -qsiE 'fatal' "$log"; then
      echo "$name: $(grep -iE 'fatal|error' "$log" | tail -n 3 | tr '\n' ' ')"; return
    fi
    if [ -s "$pidf" ] && ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
      echo "$name exited: $(grep -iE 'error|fatal' "$log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"; return
    fi
  done
}
getent hosts localhost >/dev/null || { bad "localhost does not resolve (slurm.conf names the node localhost); fix /etc/hosts"; exit 1; }
slurmctld -f "$SLURM_CONF" || { bad "slurmctld did not start: $(tail -n 3 "$DIR/log/slurmctld.log" 2>/dev/null)"; exit 1; }
slurmd -f "$SLURM_CONF" -N localhost || { bad "slurmd did not start: $(tail -n 3 "$DIR/log/slurmd.log" 2>/dev/null)"; exit 1; }
up_by=$((SECONDS + 40))
while [ "$SECONDS" -lt "$up_by" ]; do
  timeout 5 scontrol show node localhost 2>/dev/null | grep -q "State=IDLE" && break
  why=$(daemon_problem)
  [ -n "$why" ] && { bad "slurm did not come up: $why"; exit 1; }
  sleep 0.2
done
timeout 5 scontrol show node localhost | grep -q "State=IDLE" ||
  { bad "node never became idle in 40 s: $(daemon_problem) $(tail -n 3 "$DIR/log/slurmd.log" 2>/dev/null)"; exit 1; }
say "slurm up on ports $P1/$P2"

# Wait for a job to leave the queue; prints "STATE EXITCODE".
wait_job() {
  local id=$1 line state why
  for _ in $(seq 600); do
    why=$(daemon_problem)
    [ -n "$why" ] && { echo "DAEMON_DIED - $why" ; return; }
    line=$(timeout 5 scontrol show job -o "$id" 2>/dev/null)
    state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
    case "$state" in
      PENDING|RUNNING|CONFIGURING|COMPLETING|"") sleep 0.2 ;;
      *) echo "$state $(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$line")"; return ;;
    esac
  done
  echo "TIMEOUT -"
}
sums() { (cd "$1" && sha256sum shard-*.nc); }

"$AGROFLUX" synth "$DIR/synth" --counties 5 --scenarios 2 --sites 2 --years 2003-2004 --seed 3 >/dev/null ||
  { bad "synth"; exit 1; }
PIPE=$DIR/synth/pipeline-tables.ini
sed -i 's/^block_days.*/block_days = 50/' "$PIPE"
export AGROFLUX OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# 1. one pipeline, 2 tasks, srun --mpi=pmix
id=$(sbatch --parsable --ntasks=2 --output="$DIR/job1.log" "$SRC/slurm/agroflux.sbatch" "$PIPE" "$DIR/out1") ||
  { bad "sbatch"; exit 1; }
read -r st ec < <(wait_job "$id")
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] || bad "job $id: $st $ec"
"$AGROFLUX" verify "$DIR/out1" >/dev/null 2>&1 || bad "verify out1"
grep -q '"ranks": 2' "$DIR/out1/index.json" || bad "index: 2 ranks"
grep -q "peak RSS" "$DIR/job1.log" && grep -q "finish" "$DIR/job1.log" || bad "job log: timing table"
say "single job: $st $ec"

# 2. a clean stop on SIGUSR1 (what --signal=B:USR1@300 sends), then a resubmission resumes
id=$(AGROFLUX_TEST_BLOCK_DELAY_MS=300 AGROFLUX_CHECKPOINT_INTERVAL=0 sbatch --parsable --ntasks=2 --output="$DIR/job2.log" \
  "$SRC/slurm/agroflux.sbatch" "$PIPE" "$DIR/out2") || { bad "sbatch 2"; exit 1; }
for _ in $(seq 300); do
  grep -qs '"days_done": [1-9]' "$DIR/out2/journal.json" && break
  sleep 0.1
done
scancel --batch --signal=USR1 "$id" || bad "scancel --signal"
read -r st ec < <(wait_job "$id")
[ "$ec" = 4:0 ] || bad "interrupted job: exit code 4:0 expected, got $st $ec"
[ -f "$DIR/out2/index.json" ] && bad "interrupted job published an index"
[ -f "$DIR/out2/journal.json" ] || bad "interrupted job left no journal"
grep -q "stopped by a signal" "$DIR/job2.log" || bad "job log: stop message"
id=$(sbatch --parsable --ntasks=2 --output="$DIR/job3.log" "$SRC/slurm/agroflux.sbatch" "$PIPE" "$DIR/out2") ||
  { bad "sbatch 3"; exit 1; }
read -r st ec < <(wait_job "$id")
[ "$st" = COMPLETED ] || bad "resumed job: $st $ec"
grep -q "continuing at day" "$DIR/job3.log" || bad "resumed job did not continue from the journal"
[ "$(sums "$DIR/out1")" = "$(sums "$DIR/out2")" ] || bad "resumed shards differ from the uninterrupted job"
say "stop and resume: $st $ec"

# 3. a job array over two entries, mpirun as the launcher
# entry 1 passes an option through to agroflux plan and run (--set: the pipeline's name)
printf '# pipelines\n%s %s\n\n%s %s --set pipeline.name=arr-one\n' "$PIPE" "$DIR/arr0" "$PIPE" "$DIR/arr1" > "$DIR/list.txt"
id=$(AGROFLUX_LAUNCH=mpirun sbatch --parsable --array=0-1 --ntasks=1 --output="$DIR/job-arr-%a.log" \
  "$SRC/slurm/agroflux-array.sbatch" "$DIR/list.txt") || { bad "sbatch array"; exit 1; }
for t in 0 1; do
  read -r st ec < <(wait_job "${id}_$t")
  [ "$st" = COMPLETED ] || bad "array task $t: $st $ec"
  "$AGROFLUX" verify "$DIR/arr$t" >/dev/null 2>&1 || bad "verify arr$t"
  if [ "$t" = 0 ]; then
    [ "$(sums "$DIR/out1")" = "$(sums "$DIR/arr$t")" ] || bad "array task $t: shards differ (1 rank vs 2)"
  else
    grep -q '"name": "arr-one"' "$DIR/arr1/index.json" || bad "array task 1: --set not passed to run"
    grep -q "pipeline arr-one: OK" "$DIR/job-arr-1.log" || bad "array task 1: --set not passed to plan"
  fi
done
say "array: done"
[ "$fail" = 0 ] && say "all passed"
exit "$fail"
