#!/bin/sh
# SPDX-License-Identifier: MIT
# run_shard_mpi.sh MPIRUN PROGRAM: runs test_shard_mpi on 1, 2, 3, 4 and 8 ranks
# (8 > 7 samples: one rank owns none) for CDF-2, and on 1 and 3 ranks for CDF-5,
# and requires byte-identical shards (same SHA-256) for every rank count.
set -u
MPIRUN=$1
PROG=$2
WORK=$(mktemp -d /tmp/af_shard_mpi.XXXXXX)
pass=0
fail=0
run() { # name nranks [cdf5]
    name=$1; n=$2; shift 2
    mkdir -p "$WORK/$name"
    if "$MPIRUN" --oversubscribe -n "$n" "$PROG" "$WORK/$name" "$WORK/$name.sums" "$@"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $n ranks $*" >&2
        fail=$((fail + 1))
    fi
}
same() { # a b
    if [ -s "$WORK/$1.sums" ] && cmp -s "$WORK/$1.sums" "$WORK/$2.sums"; then
        pass=$((pass + 1))
    else
        echo "FAIL: shards of $1 and $2 differ:" >&2
        diff "$WORK/$1.sums" "$WORK/$2.sums" >&2
        fail=$((fail + 1))
    fi
}
for n in 1 2 3 4 8; do run "cdf2_n$n" "$n"; done
for n in 2 3 4 8; do same cdf2_n1 "cdf2_n$n"; done
run cdf5_n1 1 cdf5
run cdf5_n3 3 cdf5
same cdf5_n1 cdf5_n3
cat "$WORK/cdf2_n1.sums"
echo "$pass passed, $fail failed"
if [ "$fail" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
[ "$fail" -eq 0 ]
