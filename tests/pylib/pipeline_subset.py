# SPDX-License-Identifier: MIT
"""A synth pipeline cut down to some feature sections, and the digests of an output's shards:
what the gridded day-split and shared-scan tests compare across rank counts."""
import glob
import hashlib
import os


def subset(src, dst, keep):
    """Copy pipeline file src to dst with only the [input.*] / [target.*] sections named in keep
    (e.g. "[input.TMAX_AIR]"), every other section, and no [splits]."""
    out, on = [], True
    for line in open(src):
        if line.startswith("["):
            name = line.strip()
            on = name != "[splits]" and (not name.startswith(("[input.", "[target.")) or name in keep)
        if on:
            out.append(line)
    open(dst, "w").write("".join(out))


def shard_digests(outdir):
    """{shard file name: SHA-256 hex} of outdir's shards."""
    return {os.path.basename(p): hashlib.sha256(open(p, "rb").read()).hexdigest()
            for p in sorted(glob.glob(os.path.join(outdir, "shard-*.nc")))}
