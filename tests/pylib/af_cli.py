# SPDX-License-Identifier: MIT
"""Running the agroflux CLI from Python tests: `run` (any command, output captured) and
`mpirun(n, ...)` (the CLI on n oversubscribed ranks, -q). $AGROFLUX names the CLI.

`run` of the CLI alone makes it an isolated MPI singleton (OMPI_MCA_ess_singleton_isolated=1): a
command that starts MPI (run, export, inspect of shards) then starts no orted helper daemon
first, about 0.4 s less per call. Isolated singletons all take one job id, so this test process
gives them a session directory of its own (OMPI_MCA_orte_tmpdir_base), removed at exit: a
singleton of another test ending would otherwise remove the MPI-IO files of one running here.
The singletons of one test run one after the other."""
import atexit
import os
import shutil
import subprocess
import tempfile

AGROFLUX = os.environ.get("AGROFLUX", "agroflux")
_session = []


def solo_env(env=None):
    """env (default: this process's) for an isolated MPI singleton with this test's session directory."""
    if not _session:
        _session.append(tempfile.mkdtemp(prefix="af-mpi-"))
        atexit.register(shutil.rmtree, _session[0], True)
    return dict(env if env is not None else os.environ, OMPI_MCA_ess_singleton_isolated="1",
                OMPI_MCA_orte_tmpdir_base=_session[0])


def run(args, **kw):
    if args and args[0] == AGROFLUX:
        kw["env"] = solo_env(kw.get("env"))
    return subprocess.run(args, capture_output=True, text=True, **kw)


def mpirun(n, *args):
    return run(["mpirun", "-n", str(n), "--oversubscribe", AGROFLUX, "-q", *args])
